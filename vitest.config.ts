import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** The default app's secret key inside runtime tests. */
export const testSecretKey = "edge-im-test-secret-key-0123456789abcdef";
/** The deployment's console key inside runtime tests. */
export const testConsoleKey = "edge-im-test-console-key-0123456789abcdef";

export default defineConfig({
  test: {
    // The worker's structured request logs would bury the test report.
    onConsoleLog: (line) => !line.startsWith('{"event":'),
    projects: [
      {
        // Pure modules (mechanisms, rules) in plain Node: milliseconds, no workerd.
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        plugins: [
          cloudflareTest(async () => ({
            main: "./src/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                IM_SECRET_KEY: testSecretKey,
                IM_CONSOLE_KEY: testConsoleKey,
                TEST_MIGRATIONS: await readD1Migrations("./migrations"),
              },
            },
          })),
        ],
        test: {
          name: "runtime",
          include: ["test/runtime/**/*.test.ts"],
          setupFiles: ["./test/runtime/setup.ts"],
          globalSetup: ["./test/support/usersig-vectors.ts"],
          // Cases per fuzz property (test/runtime/fuzz-*.test.ts); 0 keeps each property's CI default.
          provide: { fuzzRuns: Number(process.env.FUZZ_RUNS ?? 0) || 0 },
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          globalSetup: ["./test/e2e/setup.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
