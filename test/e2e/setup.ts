/** Before the end-to-end files start their servers in parallel: one local secret key for all of them. */
import { ensureDevVars } from "../../scripts/config.ts";
import { repoRoot } from "../../scripts/dev-server.ts";

export default function setup(): void {
  ensureDevVars(repoRoot);
}
