/**
 * The profile and relationship-chain callbacks in Tencent IM's format: the fields of each
 * command's body, and how the per-item answer of Sns.CallbackPrevFriendAdd and
 * Sns.CallbackPrevFriendResponse refuses some items while the others proceed. Pure.
 */
import { z } from "zod";
import { CallbackCode, type CallbackSettings } from "./callbacks.ts";

export const SnsCallback = {
  prevFriendAdd: "Sns.CallbackPrevFriendAdd",
  prevFriendResponse: "Sns.CallbackPrevFriendResponse",
  friendAdd: "Sns.CallbackFriendAdd",
  friendDelete: "Sns.CallbackFriendDelete",
  blackListAdd: "Sns.CallbackBlackListAdd",
  blackListDelete: "Sns.CallbackBlackListDelete",
  portraitSet: "Profile.CallbackPortraitSet",
} as const;

/** `from`'s list gained or lost `to`, because `initiator` acted. */
export interface Pair {
  from: string;
  to: string;
  initiator: string;
}

/** FriendDelete, BlackListAdd and BlackListDelete: `PairList[{From_Account, To_Account, Initiator_Account}]`. */
export function pairListFields(pairs: Pair[]): Record<string, unknown> {
  return { PairList: pairs.map((p) => ({ From_Account: p.from, To_Account: p.to, Initiator_Account: p.initiator })) };
}

/** What made friends: an add, or an answered request (an import tells the backend nothing). */
export type FriendAddCmd = "friend_add" | "friend_response";

/**
 * Sns.CallbackFriendAdd: the pairs, the command that made them, the admin who made them over
 * REST (empty for a client) and whether verification was skipped.
 */
export function friendAddFields(pairs: Pair[], how: { clientCmd: FriendAddCmd; admin?: string; force: boolean }): Record<string, unknown> {
  return { ...pairListFields(pairs), ClientCmd: how.clientCmd, Admin_Account: how.admin ?? "", ForceFlag: how.force ? 1 : 0 };
}

export interface FriendAddItem {
  to: string;
  remark?: string;
  listName?: string;
  addSource?: string;
  addWording?: string;
}

/** Sns.CallbackPrevFriendAdd: `requester` is who made the call (the admin over REST), `from` who adds. */
export function prevFriendAddFields(requester: string, from: string, items: FriendAddItem[], addType: string, force: boolean): Record<string, unknown> {
  return {
    Requester_Account: requester,
    From_Account: from,
    FriendItem: items.map((i) => ({ To_Account: i.to, Remark: i.remark ?? "", GroupName: i.listName ?? "", AddSource: i.addSource ?? "", AddWording: i.addWording ?? "" })),
    AddType: addType,
    ForceAddFlags: force ? 1 : 0,
  };
}

export interface FriendResponseItem {
  /** Who asked to be a friend. */
  to: string;
  remark?: string;
  listName?: string;
  action: "agree" | "agreeAndAdd" | "reject";
}

const responseActions = { agree: "Response_Action_Agree", agreeAndAdd: "Response_Action_AgreeAndAdd", reject: "Response_Action_Reject" } as const;

/** Sns.CallbackPrevFriendResponse: `from` answers the requests of each item's `to`. */
export function prevFriendResponseFields(requester: string, from: string, items: FriendResponseItem[]): Record<string, unknown> {
  return {
    Requester_Account: requester,
    From_Account: from,
    ResponseFriendItem: items.map((i) => ({
      To_Account: i.to,
      Remark: i.remark ?? "",
      TagName: i.listName ?? "",
      ResponseAction: responseActions[i.action],
    })),
  };
}

/** Profile.CallbackPortraitSet: `operator` (the admin over REST, else the user) set `from`'s tags. */
export function portraitSetFields(operator: string, from: string, items: { tag: string; value: unknown }[]): Record<string, unknown> {
  return { Operator_Account: operator, From_Account: from, ProfileItem: items.map((i) => ({ Tag: i.tag, Value: i.value })) };
}

export interface ItemRefusal {
  code: number;
  info: string;
}

const PerItemAnswer = z.object({
  ErrorCode: z.number().int(),
  ResultItem: z.array(z.object({ To_Account: z.string(), ResultCode: z.number().int(), ResultInfo: z.string().optional() })).optional(),
});

/**
 * Reads a PrevFriendAdd / PrevFriendResponse answer: the items the backend refused, by To_Account.
 * ErrorCode 0 with a ResultItem list decides per item: 0 allows, any other ResultCode refuses
 * with that code (Tencent: non-zero refuses, and asks for codes in 38000–39000; a backend that
 * answers another code still means no); an item the list leaves out proceeds. Anything else
 * (another ErrorCode, a To_Account that was not asked) is a failure, with its reason: the spec
 * names no meaning for it, so it follows the app's timeout policy like an answer that never came.
 */
export function readPerItemAnswer(answer: unknown, asked: string[]): { refused: Map<string, ItemRefusal> } | { failure: string } {
  const parsed = PerItemAnswer.safeParse(answer);
  if (!parsed.success) return { failure: "the answer has no numeric ErrorCode or a malformed ResultItem" };
  if (parsed.data.ErrorCode !== 0) return { failure: `the answer's ErrorCode is ${parsed.data.ErrorCode}` };
  const askedSet = new Set(asked);
  const refused = new Map<string, ItemRefusal>();
  for (const item of parsed.data.ResultItem ?? []) {
    if (!askedSet.has(item.To_Account)) return { failure: `the answer names "${item.To_Account.slice(0, 64)}", which was not asked` };
    if (item.ResultCode === 0) continue;
    refused.set(item.To_Account, { code: item.ResultCode, info: (item.ResultInfo ?? "").slice(0, 200) || "refused by the app's backend" });
  }
  return { refused };
}

/** What a failed per-item callback means under the app's policy: every item proceeds, or every one is refused with 80003. */
export function refusalsOnFailure(settings: Pick<CallbackSettings, "onTimeout">, asked: string[], reason: string): Map<string, ItemRefusal> {
  if (settings.onTimeout === "proceed") return new Map();
  return new Map(asked.map((id) => [id, { code: CallbackCode.callbackFailed, info: `the app's callback failed: ${reason}` }]));
}
