/** What the fuzz tests share: how many cases to try, the fixture app, and what a state snapshot holds. */
import { env, runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { inject } from "vitest";
import { userIdPattern } from "../../src/domain/account.ts";
import type { Hints } from "../support/arbitraries.ts";
import { anApp, aUserId, type TestApp } from "./helpers.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** FUZZ_RUNS: cases per property; 0 means each property's CI default. */
    fuzzRuns: number;
  }
}

/** Cases per property: FUZZ_RUNS when given (`npm run test:fuzz`), else a CI default. */
export function runs(ciDefault: number): number {
  const wanted = inject("fuzzRuns");
  return wanted > 0 ? wanted : ciDefault;
}

/** A test's time limit for `cases` cases of about `msPerCase` each, with room to shrink a failure. */
export function timeLimit(cases: number, msPerCase: number): number {
  return 60_000 + cases * msPerCase;
}

/** fast-check settings; a failure prints its seed, so the run can be replayed. */
export function fcOptions(numRuns: number): fc.Parameters<unknown> {
  return { numRuns, verbose: 1 };
}

/** Codes that mean "internal error, retry": an input must never produce them. */
export const internalErrorCodes = new Set([91000, 30006, 40006, 50000, 70500, 10002]);

/** Close codes docs/PROTOCOL.md documents. */
export const documentedCloseCodes = new Set([1000, 1009, 4001, 4002, 4003, 4004, 4008]);

/** Rejects after `ms` unless `promise` settles first: a hang is a failure, not a stuck run. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface FuzzWorld {
  app: TestApp;
  users: string[];
  /** MsgKeys of messages between users[0] and users[1]. */
  keys: string[];
  hints: Hints;
  /** Everything the app's data holds that a refused call must leave alone. */
  snapshot(): Promise<unknown>;
}

/** Tags and words the server gives meaning to, so generated strings sometimes hit them. */
const knownWords = [
  "Tag_Profile_IM_Nick",
  "Tag_Profile_IM_Gender",
  "Tag_Profile_IM_AllowType",
  "Tag_Profile_IM_Image",
  "Tag_Profile_IM_AdminForbidType",
  "Tag_Profile_IM_Level",
  "Tag_Profile_Custom_Fz",
  "Tag_SNS_IM_Remark",
  "Tag_SNS_IM_Group",
  "Tag_SNS_IM_AddSource",
  "Tag_SNS_Custom_Fz",
  "Gender_Type_Male",
  "AllowType_Type_NeedConfirm",
  "AllowType_Type_DenyAny",
  "Need_Friend_Type_Yes",
  "NoUnread",
  "NoLastMsg",
  "friends",
  "",
];

/**
 * A fresh app for fuzzing: limits high enough that the fuzzer measures behaviour, not the
 * throttle; four users, two of them friends with a conversation.
 */
export async function fuzzWorld(): Promise<FuzzWorld> {
  const app = await anApp({
    settings: {
      restRateLimit: 1_000_000,
      commandRateLimits: {
        "im_open_login_svc/multiaccount_import": 1_000_000,
        "im_open_login_svc/account_delete": 1_000_000,
        "im_open_login_svc/account_check": 1_000_000,
      },
      connectionFrameRate: 1_000_000,
      profileCustomTags: ["Tag_Profile_Custom_Fz"],
      friendCustomTags: ["Tag_SNS_Custom_Fz"],
    },
  });
  const users = [aUserId("fa"), aUserId("fb"), aUserId("fc"), aUserId("fd")];
  await app.rest("im_open_login_svc/multiaccount_import", { Accounts: users });
  await app.rest("sns/friend_add", { From_Account: users[0], AddFriendItem: [{ To_Account: users[1] }], ForceAddFlags: 1 });
  const keys: string[] = [];
  for (let i = 0; i < 3; i++) {
    const sent = await app.rest("openim/sendmsg", {
      From_Account: users[i % 2],
      To_Account: users[(i + 1) % 2],
      MsgRandom: 1000 + i,
      MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: `hello ${i}` } }],
    });
    keys.push(sent.body.MsgKey as string);
  }
  const ids = [...users, app.admin];
  const hints: Hints = {
    byPattern: {
      [userIdPattern.source]: fc.constantFrom(...ids),
      "^\\d+_\\d+_\\d+$": fc.constantFrom(...keys),
    },
    freeStrings: fc.constantFrom(...knownWords),
  };

  const tables = ["accounts", "profiles", "friends", "friend_counts", "friend_requests", "friend_lists", "blocklist"];
  const snapshot = async () => {
    const d1 = await env.DB.batch(tables.map((t) => env.DB.prepare(`SELECT * FROM ${t} WHERE sdkappid = ?`).bind(app.sdkAppId)));
    const actors = await Promise.all(
      ids.map((userId) =>
        runInDurableObject(env.USER.get(env.USER.idFromName(`${app.sdkAppId}:${userId}`)), (_actor, state) => {
          const names = state.storage.sql
            .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf%' ESCAPE '\\' AND name NOT LIKE 'sqlite%' AND name <> 'stats' ORDER BY name")
            .toArray()
            .map((r) => r.name);
          // History past the retention window is the retention job's to delete whenever the actor's
          // alarm runs (any job's): it is left out of the state a refused call must not change.
          const cutoffMs = Date.now() - 30 * 86_400_000;
          const rows = (n: string) =>
            n === "messages"
              ? state.storage.sql.exec("SELECT * FROM messages WHERE time >= ?", Math.floor(cutoffMs / 1000))
              : n === "events"
                ? state.storage.sql.exec("SELECT * FROM events WHERE stored_at >= ?", cutoffMs)
                : n === "meta"
                  ? state.storage.sql.exec("SELECT * FROM meta WHERE k NOT IN ('last_sweep', 'seq_floor')")
                  : state.storage.sql.exec(`SELECT * FROM "${n}"`);
          return Object.fromEntries(names.map((n) => [n, sorted(rows(n).toArray())]));
        }),
      ),
    );
    return { d1: Object.fromEntries(tables.map((t, i) => [t, sorted(d1[i]!.results)])), actors: Object.fromEntries(ids.map((id, i) => [id, actors[i]])) };
  };
  return { app, users, keys, hints, snapshot };
}

function sorted(rows: unknown[]): string[] {
  return rows.map((r) => JSON.stringify(r)).sort();
}
