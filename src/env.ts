import type { AppActor } from "./actors/AppActor.ts";
import type { FanoutHub } from "./actors/FanoutHub.ts";
import type { GroupActor } from "./actors/GroupActor.ts";
import type { SignInGuard } from "./actors/SignInGuard.ts";
import type { LiveShard } from "./actors/LiveShard.ts";
import type { UserActor } from "./actors/UserActor.ts";

/** The Worker's bindings (see wrangler.toml). */
export interface Env {
  DB: D1Database;
  APP: DurableObjectNamespace<AppActor>;
  USER: DurableObjectNamespace<UserActor>;
  GROUP: DurableObjectNamespace<GroupActor>;
  HUB: DurableObjectNamespace<FanoutHub>;
  GUARD: DurableObjectNamespace<SignInGuard>;
  LIVE: DurableObjectNamespace<LiveShard>;
  /** The default app's SDKAppID. */
  IM_SDKAPPID: string;
  /** The default app's admin identifiers, comma-separated. */
  IM_ADMIN: string;
  /** The default app's secret key (a secret: `.dev.vars` locally, `wrangler secret put` in production). */
  IM_SECRET_KEY?: string;
  /** "true" only on a local server (`npm run dev`): turns on the web chat page's sign-in helper and /local/usage. */
  IM_DEMO?: string;
  /** Optional PEM public key for the default app's v1 (ECDSA) UserSigs. */
  IM_PUBLIC_KEY?: string;
  /** The default app's callback URL (third-party callbacks); none when unset. */
  IM_CALLBACK_URL?: string;
  /** The callback commands the default app sends, comma-separated, or "*". */
  IM_CALLBACK_COMMANDS?: string;
  /** The token that signs the default app's callbacks (a secret). */
  IM_CALLBACK_TOKEN?: string;
  /** The deployment operator's console key (a secret): signs in to /console/ and calls edgeim_console_svc. */
  IM_CONSOLE_KEY?: string;
}
