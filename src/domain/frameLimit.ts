/**
 * The per-connection frame limit, decided in memory before a frame is parsed:
 * every frame counts, whatever it holds. A client over its rate is told to
 * slow down (60007); one that keeps flooding is cut off within about a second.
 */
import { takeToken, type TokenBucket } from "./rateLimit.ts";

export interface FrameLimitState {
  bucket?: TokenBucket;
  /** Start of the one-second window in which refusals are counted. */
  windowStart: number;
  /** Frames refused in the current window. */
  refused: number;
}

export type FrameVerdict = "accept" | "refuse" | "close";

export function newFrameLimit(nowMs: number): FrameLimitState {
  return { windowStart: nowMs, refused: 0 };
}

/**
 * `perSecond` frames per second with a burst of one second's worth. Refusals
 * beyond one second's worth within one second close the connection, so a
 * flood costs the server at most about two seconds' worth of frames.
 */
export function admitFrame(state: FrameLimitState, perSecond: number, nowMs: number): FrameVerdict {
  const { allowed, bucket } = takeToken(state.bucket, perSecond, nowMs);
  state.bucket = bucket;
  if (allowed) return "accept";
  if (nowMs - state.windowStart >= 1000) {
    state.windowStart = nowMs;
    state.refused = 0;
  }
  state.refused++;
  return state.refused > perSecond ? "close" : "refuse";
}

/** Frames a connection may send before it has logged in: the login, and a retry or two. */
export const framesBeforeLogin = 4;

/** UTF-8 length of a text frame, counting only as far as `limit` needs. */
export function exceedsBytes(text: string, limit: number): boolean {
  // Each UTF-16 code unit is at most 3 bytes of UTF-8 (a surrogate pair, two units, is 4).
  if (text.length * 3 <= limit) return false;
  if (text.length > limit) return true;
  return new TextEncoder().encode(text).length > limit;
}
