/** Bundles the SDK for the web chat page (public/demo/sdk.js), which the Worker serves as a static asset. */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
await build({
  entryPoints: [join(root, "src", "sdk", "index.ts")],
  outfile: join(root, "public", "demo", "sdk.js"),
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  logLevel: "warning",
});
