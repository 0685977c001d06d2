/**
 * Bundles the browser pages the Worker serves as static assets: the SDK for the web chat page
 * (public/demo/sdk.js) and the console page with its chart library (public/console/app.js and
 * app.css), so neither loads anything from elsewhere.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const common = { bundle: true, minify: true, format: "esm", target: "es2022", logLevel: "warning" } as const;
await Promise.all([
  build({ ...common, entryPoints: [join(root, "src", "sdk", "index.ts")], outfile: join(root, "public", "demo", "sdk.js") }),
  build({ ...common, entryPoints: [join(root, "src", "console", "page", "main.ts")], outfile: join(root, "public", "console", "app.js") }),
  build({ ...common, entryPoints: [join(root, "node_modules", "uplot", "dist", "uPlot.min.css")], outfile: join(root, "public", "console", "app.css"), format: undefined }),
]);
