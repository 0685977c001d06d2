import type { D1Migration } from "cloudflare:test";
import type { Env } from "../../src/env.ts";

declare global {
  namespace Cloudflare {
    interface Env extends import("../../src/env.ts").Env {
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}

declare module "vitest" {
  export interface ProvidedContext {
    userSigVectors: import("../support/usersig-vectors.ts").UserSigVectors;
  }
}

export type { Env };
