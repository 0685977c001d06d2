import { applyD1Migrations, env } from "cloudflare:test";
import { afterEach } from "vitest";
import { TestClient } from "./clients.ts";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

// A socket left open would let its actor log after the test file's runner is gone.
afterEach(() => TestClient.closeAll());
