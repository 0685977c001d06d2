/**
 * openim_dirty_words: the app's sensitive words. They are part of the app's settings, changed
 * through its AppActor; user and group actors check each message against the list held with
 * their cached app (no call per message), so a change reaches them within the app cache's minute.
 */
import { z } from "zod";
import { ErrorCode, unwrap } from "../domain/errors.ts";
import { DirtyWord, maxDirtyWordsPerCall } from "../domain/moderation.ts";
import { appActor } from "../actors/refs.ts";
import { command } from "./command.ts";

const paramErrorCode = ErrorCode.messageJsonInvalid;

const WordList = z.object({
  DirtyWordsList: z.array(DirtyWord).min(1, "must name at least one word").max(maxDirtyWordsPerCall, `must name at most ${maxDirtyWordsPerCall} words`),
});

export const getDirtyWords = command({
  body: z.object({}),
  paramErrorCode,
  async handle({ app }) {
    return { DirtyWordsList: app.settings.dirtyWords };
  },
});

export const addDirtyWords = command({
  body: WordList,
  paramErrorCode,
  async handle({ env, app }, body) {
    unwrap(await appActor(env, app.sdkAppId).editDirtyWords(app.sdkAppId, { add: body.DirtyWordsList }));
    return {};
  },
});

export const deleteDirtyWords = command({
  body: WordList,
  paramErrorCode,
  async handle({ env, app }, body) {
    unwrap(await appActor(env, app.sdkAppId).editDirtyWords(app.sdkAppId, { remove: body.DirtyWordsList }));
    return {};
  },
});

export const openimDirtyWords = { get: getDirtyWords, add: addDirtyWords, delete: deleteDirtyWords };
