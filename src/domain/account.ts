/** Accounts: the users of an app, as the REST API and clients name them. */
import { z } from "zod";

/** Tencent's UserID rule: 1–32 bytes of letters, digits, underscores and hyphens. */
export const userIdPattern = /^[A-Za-z0-9_-]{1,32}$/;

export const UserId = z
  .string({ error: "must be a string" })
  .regex(userIdPattern, "must be 1–32 characters of letters, digits, '_' or '-'");

export function isValidUserId(value: unknown): value is string {
  return typeof value === "string" && userIdPattern.test(value);
}

/** Longest Nick and FaceUrl accepted, in UTF-8 bytes (Tencent's profile limits). */
export const maxNickBytes = 500;
export const maxFaceUrlBytes = 500;

export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

export const Nick = z.string().refine((s) => utf8Length(s) <= maxNickBytes, `must be at most ${maxNickBytes} bytes`);
export const FaceUrl = z.string().refine((s) => utf8Length(s) <= maxFaceUrlBytes, `must be at most ${maxFaceUrlBytes} bytes`);

export interface Account {
  userId: string;
  createdAt: number;
  /** Global mute (openconfigsvr/setnospeaking): unix seconds until which the user may not send; 0 for none. */
  c2cMuteUntil?: number;
  groupMuteUntil?: number;
}
