/**
 * An app as an app's other actors hold it: loaded from its AppActor, kept for a minute (so a key
 * change or a disabled app reaches them within it), one load at a time, so callers resume in the
 * order they asked.
 */
import type { App } from "../domain/app.ts";
import type { ImError } from "../domain/errors.ts";
import type { Env } from "../env.ts";
import { appActor } from "./refs.ts";

const appCacheMs = 60_000;

export class AppCache {
  private readonly env: Env;
  private readonly sdkAppId: () => number;
  /** What a caller gets when the app does not exist (each actor answers in its service's code). */
  private readonly missing: (sdkAppId: number) => ImError;
  private held?: { record: Promise<App>; at: number };

  constructor(env: Env, sdkAppId: () => number, missing: (sdkAppId: number) => ImError) {
    this.env = env;
    this.sdkAppId = sdkAppId;
    this.missing = missing;
  }

  record(): Promise<App> {
    if (this.held && Date.now() - this.held.at < appCacheMs) return this.held.record;
    const sdkAppId = this.sdkAppId();
    const loading = appActor(this.env, sdkAppId)
      .appWithKeys(sdkAppId)
      .then((record) => {
        if (!record) throw this.missing(sdkAppId);
        return record;
      });
    const held = { record: loading, at: Date.now() };
    this.held = held;
    loading.catch(() => this.held === held && (this.held = undefined));
    return loading;
  }

  /** The next caller loads the app afresh. */
  forget(): void {
    this.held = undefined;
  }
}
