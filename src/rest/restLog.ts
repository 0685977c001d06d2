/**
 * The door's side of an app's REST call log (edgeim_ops_svc/get_rest_log): calls answered in
 * this isolate are gathered for a second and handed to the app's actor in one call, so logging
 * costs the AppActor (which already authorises every call) one request and one write a second
 * per isolate, not one per call. A call shows in the log about a second after its answer.
 */
import type { RestCall } from "../actors/restLog.ts";
import { appActor } from "../actors/refs.ts";
import type { Env } from "../env.ts";
import { logEvent } from "../ops/log.ts";

export const restLogDelayMs = 1_000;
/** At most this many calls of one app wait in an isolate; past it, calls are left out of the log (it keeps the newest 1,000 anyway). */
const maxWaiting = 1_000;

const waiting = new Map<number, RestCall[]>();

export function recordRestCall(env: Env, sdkAppId: number, call: RestCall, waitUntil: (p: Promise<unknown>) => void): void {
  const calls = waiting.get(sdkAppId);
  if (calls) {
    if (calls.length < maxWaiting) calls.push(call);
    return;
  }
  waiting.set(sdkAppId, [call]);
  waitUntil(flushLater(env, sdkAppId));
}

async function flushLater(env: Env, sdkAppId: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, restLogDelayMs));
  const calls = waiting.get(sdkAppId) ?? [];
  waiting.delete(sdkAppId);
  try {
    await appActor(env, sdkAppId).recordRestCalls(calls);
  } catch (error) {
    logEvent({ event: "rest_log_failed", app: sdkAppId, calls: calls.length, message: String(error) });
  }
}
