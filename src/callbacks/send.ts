/**
 * One callback request to the app's backend. The whole call (connecting, the answer and its
 * body) ends within the timeout, whatever the backend does; a redirect, a status other than
 * 200, an answer over 64 KiB or one that is not JSON is a failure. Each attempt writes one log
 * line, never the body.
 */
import {
  callbackBody,
  callbackRequestUrl,
  decisionOnFailure,
  readBeforeSendAnswer,
  type BeforeDecision,
  type CallbackSettings,
  type OptPlatform,
} from "../domain/callbacks.ts";
import { readPerItemAnswer, refusalsOnFailure, type ItemRefusal } from "../domain/snsCallbacks.ts";
import type { Counts } from "../domain/stats.ts";
import { logEvent } from "../ops/log.ts";

/** The most of an answer read; a larger one is a failure. */
export const maxAnswerBytes = 64 * 1024;

export interface CallbackCall {
  sdkAppId: number;
  settings: CallbackSettings;
  command: string;
  /** The event's own fields (the body adds CallbackCommand and EventTime). */
  fields: Record<string, unknown>;
  /** When the event happened (ms). */
  eventTime: number;
  platform: OptPlatform;
  clientIp?: string;
  /** 1 for the first try of this event. */
  attempt?: number;
  /** Defaults to the app's before-callback timeout. */
  timeoutMs?: number;
  /** Adds to the app's statistics (the calling actor's counts): each attempt, and how it ended. */
  count?: (counts: Counts) => void;
}

export type CallbackOutcome = "ok" | "timeout" | "redirect" | "http_status" | "too_large" | "invalid_json" | "network";

export type CallbackResult = { ok: true; answer: unknown } | { ok: false; outcome: Exclude<CallbackOutcome, "ok">; reason: string };

class Failure extends Error {
  readonly outcome: Exclude<CallbackOutcome, "ok">;

  constructor(outcome: Exclude<CallbackOutcome, "ok">, message: string) {
    super(message);
    this.outcome = outcome;
  }
}

/** Makes the request and reads the answer as JSON; never throws, never outlasts the timeout. */
export async function sendCallback(call: CallbackCall): Promise<CallbackResult> {
  const started = Date.now();
  const timeoutMs = call.timeoutMs ?? call.settings.timeoutMs;
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  // The race ends the wait even if something ignores the abort.
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Failure("timeout", `no answer within ${timeoutMs} ms`));
      abort.abort();
    }, timeoutMs);
  });
  let status: number | undefined;
  try {
    const answer = await Promise.race([
      (async () => {
        const url = await callbackRequestUrl(call.settings.url, {
          sdkAppId: call.sdkAppId,
          command: call.command,
          clientIp: call.clientIp,
          platform: call.platform,
          token: call.settings.token,
          now: Date.now(),
        });
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json; charset=utf-8" },
          body: JSON.stringify(callbackBody(call.command, call.eventTime, call.fields)),
          redirect: "manual",
          signal: abort.signal,
        });
        status = response.status;
        if (response.status >= 300 && response.status < 400) {
          await response.body?.cancel();
          throw new Failure("redirect", `the callback answered a redirect (${response.status})`);
        }
        if (response.status !== 200) {
          await response.body?.cancel();
          throw new Failure("http_status", `the callback answered HTTP ${response.status}`);
        }
        const text = await readLimited(response, maxAnswerBytes);
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new Failure("invalid_json", "the callback's answer is not JSON");
        }
      })(),
      timedOut,
    ]);
    log(call, started, status, "ok");
    return { ok: true, answer };
  } catch (error) {
    const failure = error instanceof Failure ? error : new Failure("network", `the callback could not be reached: ${String((error as Error)?.message ?? error).slice(0, 200)}`);
    log(call, started, status, failure.outcome, failure.message);
    return { ok: false, outcome: failure.outcome, reason: failure.message };
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

async function readLimited(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get("content-length"));
  if (declared > limit) {
    await response.body?.cancel();
    throw new Failure("too_large", `the callback's answer is over ${limit} bytes`);
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new Failure("too_large", `the callback's answer is over ${limit} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

function log(call: CallbackCall, started: number, status: number | undefined, outcome: CallbackOutcome, reason?: string): void {
  const retried = (call.attempt ?? 1) > 1 ? { CallbackRetried: 1 } : {};
  call.count?.(outcome === "ok" ? { CallBackReq: 1, CallBackRsp: 1, ...retried } : { CallBackReq: 1, CallbackFailed: 1, ...retried });
  logEvent({
    event: "callback",
    app: call.sdkAppId,
    command: call.command,
    status,
    ms: Date.now() - started,
    attempt: call.attempt ?? 1,
    outcome,
    reason,
  });
}

/**
 * Asks a before-callback and reads its answer as a decision; a failure (timeout, error, an answer
 * the spec does not define) decides as the app chose, and is logged with its reason.
 */
export async function askBefore(call: CallbackCall, scope: "c2c" | "group"): Promise<BeforeDecision> {
  const result = await sendCallback(call);
  if (!result.ok) return decisionOnFailure(call.settings, result.reason);
  const read = readBeforeSendAnswer(result.answer, scope);
  if ("decision" in read) return read.decision;
  logEvent({ event: "callback_answer_invalid", app: call.sdkAppId, command: call.command, reason: read.failure });
  return decisionOnFailure(call.settings, read.failure);
}

/**
 * Asks a before-callback that answers per item (Sns.CallbackPrevFriendAdd, PrevFriendResponse):
 * the items it refused, by id. A failure decides for every item as the app chose, and is logged.
 */
export async function askPerItem(call: CallbackCall, asked: string[]): Promise<Map<string, ItemRefusal>> {
  const result = await sendCallback(call);
  if (!result.ok) return refusalsOnFailure(call.settings, asked, result.reason);
  const read = readPerItemAnswer(result.answer, asked);
  if ("refused" in read) return read.refused;
  logEvent({ event: "callback_answer_invalid", app: call.sdkAppId, command: call.command, reason: read.failure });
  return refusalsOnFailure(call.settings, asked, read.failure);
}
