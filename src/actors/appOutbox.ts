/**
 * The app's outbox (D1 `outbox`): what its rows deliver and who drains it. An action's own
 * Worker or actor drains right after answering; the app's AppActor alarm is the backstop for
 * rows that failed or that a drain left behind.
 */
import { afterCallbackPolicy, deliverQueuedCallback, logDroppedCallback, type QueuedCallback } from "../callbacks/afterQueue.ts";
import type { CallbackSettings } from "../domain/callbacks.ts";
import type { Counts } from "../domain/stats.ts";
import { ImError } from "../domain/errors.ts";
import type { Env } from "../env.ts";
import { drainOutbox, defaultDrainPolicy, type DrainReport, type OutboxRow } from "../mechanisms/outbox.ts";
import { logEvent } from "../ops/log.ts";
import type { SnsEvent } from "../sns/context.ts";
import { D1Outbox } from "../store/outbox.ts";
import { appActor, userActor } from "./refs.ts";

/** Rows addressed to one user's actor: delivered in the order written. */
export const userTarget = (userId: string) => `user:${userId}`;

/** After-callbacks of one acting user's profile and relationship changes: delivered in the order written. */
export const callbackTarget = (userId: string) => `callback:${userId}`;

export interface RelationsChanged {
  events: SnsEvent[];
  data: Record<string, unknown>;
}

/** A `callback` row: an after-callback of a profile or relationship change. */
export interface CallbackRow extends QueuedCallback {
  command: string;
}

/** The app's callbacks with their token, loaded once per pass and only if a row needs them. */
export type CallbackSettingsSource = () => Promise<CallbackSettings | undefined>;

type Delivery = (env: Env, sdkAppId: number, row: OutboxRow, callbacks: CallbackSettingsSource) => Promise<void>;

const deliveries: Record<string, Delivery> = {
  /** The user's actor drops its cached relations and pushes the events to the user's devices. */
  async relationsChanged(env, sdkAppId, row) {
    const ref = { sdkAppId, userId: row.target.slice("user:".length) };
    const { events, data } = row.payload as RelationsChanged;
    const outcome = await userActor(env, ref).relationsChanged(events, data);
    if (!outcome.ok) throw new ImError(outcome.code, outcome.info);
  },
  /** The app's backend is told (`callbacks/send.ts`). */
  async callback(env, sdkAppId, row, callbacks) {
    const { command, ...queued } = row.payload as CallbackRow;
    await deliverQueuedCallback(sdkAppId, await callbacks(), command, queued, row.attempts, countIn(env, sdkAppId));
  },
};

/** Counts in the app's own statistics (its AppActor's), for deliveries made outside any user's or group's actor. */
export function countIn(env: Env, sdkAppId: number): (counts: Counts) => void {
  return (counts) =>
    void appActor(env, sdkAppId)
      .countStats(counts)
      .catch((error: unknown) => logEvent({ event: "stats_count_failed", app: sdkAppId, message: String(error) }));
}

/** Asks the app's AppActor for its callbacks (the token stays out of the app's view). */
export const appCallbackSettings = (env: Env, sdkAppId: number): Promise<CallbackSettings | undefined> => appActor(env, sdkAppId).callbackSettings(sdkAppId);
const fromAppActor = (env: Env, sdkAppId: number): CallbackSettingsSource => () => appCallbackSettings(env, sdkAppId);

/** One pass over the app's due rows. */
export function drainAppOutbox(env: Env, sdkAppId: number, callbackSettings: CallbackSettingsSource = fromAppActor(env, sdkAppId)): Promise<DrainReport> {
  let loaded: Promise<CallbackSettings | undefined> | undefined;
  const callbacks = () => (loaded ??= callbackSettings().catch((error: unknown) => {
    loaded = undefined;
    throw error;
  }));
  const store = new D1Outbox(env.DB, sdkAppId);
  return drainOutbox({
    store,
    now: Date.now,
    deliver(row) {
      const delivery = deliveries[row.kind];
      // A row of a kind this version does not know (written by a newer one) waits for a version that does.
      if (!delivery) return Promise.reject(new Error(`no delivery for outbox rows of kind "${row.kind}"`));
      return delivery(env, sdkAppId, row, callbacks);
    },
    // An after-callback is tried for a day, as the actors' own callback queues try theirs.
    retryOf: (row) => (row.kind === "callback" ? { maxAttempts: afterCallbackPolicy.maxAttempts, maxDelayMs: afterCallbackPolicy.maxDelayMs } : undefined),
    parked(row, attempts, error) {
      if (row.kind === "callback") {
        // Dropped, not kept: a receiver that never comes back does not grow storage.
        logDroppedCallback(sdkAppId, (row.payload as CallbackRow).command, attempts, `failed ${attempts} times: ${error}`);
        countIn(env, sdkAppId)({ CallbackDropped: 1 });
        return void store.done([row.id]).catch(() => {});
      }
      logEvent({ event: "outbox_parked", app: sdkAppId, id: row.id, target: row.target, kind: row.kind, attempts, error });
    },
  });
}

/**
 * Arms the app's alarm to look at its outbox by the time the rows just written could be held by
 * a drain that died, so rows outlive a crash between the commit and their delivery.
 */
export async function armBackstop(env: Env, sdkAppId: number): Promise<void> {
  try {
    await appActor(env, sdkAppId).drainOutboxBy(Date.now() + defaultDrainPolicy.holdMs);
  } catch (error) {
    logEvent({ event: "outbox_error", app: sdkAppId, step: "arm", message: String(error) });
  }
}

/** After an answer: delivers the app's due rows, and leaves whatever still waits to the alarm. */
export async function drainAfterAnswer(env: Env, sdkAppId: number): Promise<void> {
  try {
    const { nextDue } = await drainAppOutbox(env, sdkAppId);
    if (nextDue !== null) await appActor(env, sdkAppId).drainOutboxBy(nextDue);
  } catch (error) {
    logEvent({ event: "outbox_error", app: sdkAppId, step: "drain", message: String(error) });
  }
}
