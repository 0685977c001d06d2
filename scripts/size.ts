/** `npm run size`: the SDK bundled for browsers, minified and gzipped (target: under 25 KB). */
import { gzipSync } from "node:zlib";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const result = await build({
  entryPoints: [join(root, "src", "sdk", "index.ts")],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  write: false,
});
const code = result.outputFiles[0]!.contents;
const gzipped = gzipSync(code, { level: 9 }).length;
const limit = 25 * 1024;
console.log(`SDK bundle: ${(code.length / 1024).toFixed(1)} KB minified, ${(gzipped / 1024).toFixed(1)} KB gzipped (target < 25 KB)`);
console.log(JSON.stringify({ minifiedBytes: code.length, gzippedBytes: gzipped, targetBytes: limit }));
if (gzipped >= limit) process.exit(1);
