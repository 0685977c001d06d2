/**
 * SignInGuard: one per caller that presents keys (a client address, or an address and an app),
 * counting its wrong keys so that a guessing script slows to one try per 15 minutes. Each try
 * counts as wrong until the key proves right, so tries sent in parallel cannot all slip past
 * the count.
 */
import { DurableObject } from "cloudflare:workers";
import { afterFailure, retryAt, type FailureRecord } from "../domain/console.ts";
import type { Env } from "../env.ts";

export class SignInGuard extends DurableObject<Env> {
  /** Admits one try (counting it as wrong for now), or says how many milliseconds to wait. */
  async admit(): Promise<{ ok: true } | { ok: false; waitMs: number }> {
    const now = Date.now();
    const record = await this.ctx.storage.get<FailureRecord>("failures");
    const until = retryAt(record, now);
    if (until > now) return { ok: false, waitMs: until - now };
    await this.ctx.storage.put("failures", afterFailure(record, now));
    return { ok: true };
  }

  /** The key was right: the caller starts afresh. */
  async succeeded(): Promise<void> {
    await this.ctx.storage.delete("failures");
  }
}
