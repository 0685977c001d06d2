/**
 * Relationship chains: the rules of adding friends, the relations friend_check
 * and black_list_check report, and the limits. Pure: callers load the facts.
 */
import type { AllowType } from "./profile.ts";

export const SnsErrorCode = {
  invalidParameter: 30001,
  accountNotFound: 30003,
  notAdmin: 30004,
  friendListFull: 30010,
  tooManyFriendLists: 30011,
  peerFriendListFull: 30014,
  blockedByMe: 30515,
  peerDeniesAll: 30516,
  blockedByPeer: 30525,
  pendingApproval: 30539,
  blocklistFull: 31704,
} as const;

export const maxFriends = 3000;
export const maxFriendLists = 32;
export const maxBlocked = 1000;

export type AddType = "Add_Type_Both" | "Add_Type_Single";

export interface AddFacts {
  allowType: AllowType;
  /** The admin forces the add, past the target's verification (ForceAddFlags 1). */
  force: boolean;
  iBlockedThem: boolean;
  theyBlockedMe: boolean;
  alreadyFriends: boolean;
  myFriendCount: number;
  theirFriendCount: number;
  addType: AddType;
}

export type AddDecision = { outcome: "added" } | { outcome: "pending" } | { outcome: "refused"; code: number; info: string };

/** What adding a friend does, given the target's verification and both sides' lists. */
export function decideFriendAdd(f: AddFacts): AddDecision {
  if (f.alreadyFriends) return { outcome: "refused", code: SnsErrorCode.invalidParameter, info: "already in the friend list" };
  if (f.iBlockedThem) return { outcome: "refused", code: SnsErrorCode.blockedByMe, info: "the account is on your blocklist" };
  if (f.theyBlockedMe) return { outcome: "refused", code: SnsErrorCode.blockedByPeer, info: "you are on the account's blocklist" };
  if (f.myFriendCount >= maxFriends) return { outcome: "refused", code: SnsErrorCode.friendListFull, info: `the friend list is full (${maxFriends})` };
  if (f.addType === "Add_Type_Both" && f.theirFriendCount >= maxFriends) {
    return { outcome: "refused", code: SnsErrorCode.peerFriendListFull, info: "the other side's friend list is full" };
  }
  if (f.force || f.allowType === "AllowType_Type_AllowAny") return { outcome: "added" };
  if (f.allowType === "AllowType_Type_DenyAny") return { outcome: "refused", code: SnsErrorCode.peerDeniesAll, info: "the account accepts no friend requests" };
  return { outcome: "pending" };
}

/** Which of A and B lists the other, in a check's four words; `single` asks only whether A lists B. */
function relation<T extends string>(words: { both: T; aWithB: T; bWithA: T; none: T }, aHasB: boolean, bHasA: boolean, single: boolean): T {
  if (single) return aHasB ? words.aWithB : words.none;
  if (aHasB && bHasA) return words.both;
  if (aHasB) return words.aWithB;
  return bHasA ? words.bWithA : words.none;
}

export type FriendRelation = "CheckResult_Type_BothWay" | "CheckResult_Type_AWithB" | "CheckResult_Type_BWithA" | "CheckResult_Type_NoRelation";

const friendWords = {
  both: "CheckResult_Type_BothWay",
  aWithB: "CheckResult_Type_AWithB",
  bWithA: "CheckResult_Type_BWithA",
  none: "CheckResult_Type_NoRelation",
} as const;

/** friend_check: A is the caller's From_Account; "AWithB" means B is in A's list. */
export function friendRelation(aHasB: boolean, bHasA: boolean, single: boolean): FriendRelation {
  return relation<FriendRelation>(friendWords, aHasB, bHasA, single);
}

export type BlockRelation = "BlackCheckResult_Type_BothWay" | "BlackCheckResult_Type_AWithB" | "BlackCheckResult_Type_BWithA" | "BlackCheckResult_Type_NO";

const blockWords = {
  both: "BlackCheckResult_Type_BothWay",
  aWithB: "BlackCheckResult_Type_AWithB",
  bWithA: "BlackCheckResult_Type_BWithA",
  none: "BlackCheckResult_Type_NO",
} as const;

/** black_list_check: "AWithB" means A blocked B. */
export function blockRelation(aBlockedB: boolean, bBlockedA: boolean, single: boolean): BlockRelation {
  return relation<BlockRelation>(blockWords, aBlockedB, bBlockedA, single);
}

/**
 * When the app requires friendship for one-to-one messages: 0 when allowed,
 * else 20009 (neither lists the other), 20010 (the recipient does not list
 * the sender), 20011 (the sender does not list the recipient).
 */
export function friendshipSendCode(senderHasRecipient: boolean, recipientHasSender: boolean): number {
  if (senderHasRecipient && recipientHasSender) return 0;
  if (!senderHasRecipient && !recipientHasSender) return 20009;
  return recipientHasSender ? 20011 : 20010;
}
