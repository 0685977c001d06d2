/**
 * An app's moderation rules: sensitive words (openim_dirty_words) and a user's global mute
 * (openconfigsvr/setnospeaking). Pure: the actors hold the data and call these on each send.
 */
import { z } from "zod";
import { ImError } from "./errors.ts";
import type { MsgBody } from "./message.ts";

export const ModerationCode = {
  /** A one-to-one send from a globally muted user. */
  senderMuted: 20012,
  /** A group send from a globally muted user (the group's own mute answers the same). */
  groupMuted: 10017,
  /** A message containing one of the app's sensitive words. */
  dirtyWord: 80001,
} as const;

/** Words added or deleted per call, and bytes per word (Tencent's bounds). */
export const maxDirtyWordsPerCall = 50;
export const maxDirtyWordBytes = 200;
/** Words an app may hold: every actor of the app keeps them in memory with the app's settings. */
export const maxDirtyWords = 1000;

const utf8 = new TextEncoder();

/**
 * A word or a text as they are compared: compatibility forms (full-width letters, ligatures) as
 * their plain letters, invisible format characters (zero-width spaces, soft hyphens) dropped, and
 * case folded (ß as ss), so such spellings do not slip a word past the list.
 */
export function foldForMatching(text: string): string {
  // Normalising reorders each run of combining marks at a cost of its length squared: runs are cut
  // to four marks first (no word needs more), so a hostile text costs linear time.
  return text
    .replace(/(\p{M}{4})\p{M}+/gu, "$1")
    .normalize("NFKC").replace(/\p{Cf}/gu, "").toUpperCase().toLowerCase();
}

export const DirtyWord = z
  .string()
  .min(1)
  // A blank word would be found in every message.
  .refine((w) => foldForMatching(w).trim().length > 0, "a word may not be blank")
  .refine((w) => utf8.encode(w).length <= maxDirtyWordBytes, `a word is at most ${maxDirtyWordBytes} bytes`);

/** The app's list as kept in its settings (set_app_settings sets it whole: each word is checked as add checks it). */
export const DirtyWords = z.array(DirtyWord).max(maxDirtyWords);

/** The list after adding `words`: each word once, case kept as given; past the bound nothing is added. */
export function withDirtyWords(current: readonly string[], words: readonly string[]): string[] {
  const known = new Set(current.map(foldForMatching));
  const next = [...current];
  for (const word of words) {
    if (known.has(foldForMatching(word))) continue;
    known.add(foldForMatching(word));
    next.push(word);
  }
  if (next.length > maxDirtyWords) {
    // The spec names no code for a full list: the parameter error of the message services.
    throw new ImError(90001, `an app holds at most ${maxDirtyWords} sensitive words; it has ${current.length}`);
  }
  return next;
}

export function withoutDirtyWords(current: readonly string[], words: readonly string[]): string[] {
  const gone = new Set(words.map(foldForMatching));
  return current.filter((w) => !gone.has(foldForMatching(w)));
}

/** The text a client can read in a message: text elements, and the descriptive parts of the others. */
function readableText(body: MsgBody): string[] {
  const texts: string[] = [];
  for (const element of body) {
    const content = element.MsgContent as Record<string, unknown>;
    for (const key of ["Text", "Desc", "Data", "Ext"]) {
      const value = content[key];
      if (typeof value === "string" && value) texts.push(value);
    }
  }
  return texts;
}

/** Refuses a message containing one of `words` (compared as `foldForMatching` spells them), with 80001. */
export function checkDirtyWords(words: readonly string[] | undefined, body: MsgBody): void {
  if (!words || words.length === 0) return;
  const texts = readableText(body).map(foldForMatching);
  if (texts.length === 0) return;
  for (const word of words) {
    const needle = foldForMatching(word);
    if (needle && texts.some((t) => t.includes(needle))) throw new ImError(ModerationCode.dirtyWord, "the message contains a sensitive word");
  }
}

/** NospeakingTime as Tencent gives it: seconds from now; 0 cancels; 4294967295 forever. */
export const NospeakingTime = z.number().int().min(0).max(0xffffffff);
export const forever = 0xffffffff;

/** Until when (unix seconds) a mute set now for `seconds` lasts; 0 for none. */
export function muteUntil(seconds: number, nowSeconds: number): number {
  if (seconds === 0) return 0;
  if (seconds === forever) return forever;
  return nowSeconds + seconds;
}

/** What getnospeaking answers for a stored `until`: seconds left, 4294967295 forever, 0 for none. */
export function muteLeft(until: number, nowSeconds: number): number {
  if (until === forever) return forever;
  return Math.max(0, until - nowSeconds);
}

/** A user's global mute, as its actor holds it. */
export interface GlobalMute {
  c2cUntil: number;
  groupUntil: number;
}

export function checkC2CMute(mute: GlobalMute | undefined, nowSeconds: number): void {
  if (mute && mute.c2cUntil > nowSeconds) throw new ImError(ModerationCode.senderMuted, "the sender is muted and may not send one-to-one messages");
}

export function checkGroupMute(mute: GlobalMute | undefined, nowSeconds: number): void {
  if (mute && mute.groupUntil > nowSeconds) throw new ImError(ModerationCode.groupMuted, "the sender is muted and may not send group messages");
}
