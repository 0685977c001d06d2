/**
 * A group message, stored once in its group and read by every member by the
 * group's MsgSeq; the draft a sender gives (REST send_group_msg or a client's
 * sendGroupMessage); and the events members' devices receive. The element
 * model (`MsgBody`) is the one-to-one messages' own.
 */
import { z } from "zod";
import { UserId } from "./account.ts";
import { MsgPriority } from "./group.ts";
import type { TopicProfile } from "./groupTopics.ts";
import { MsgBody, MsgRandom } from "./message.ts";

export interface GroupMessage {
  groupId: string;
  /** The Community topic it was sent in; absent for the group's own messages. */
  topicId?: string;
  /** The group's MsgSeq, or its topic's: strictly increasing from 1 in each. */
  seq: number;
  from: string;
  random: number;
  /** Unix seconds. */
  time: number;
  body: MsgBody;
  cloudCustomData?: string;
  priority: MsgPriority;
  /** Only these members receive it (To_Account); absent for everyone. */
  to?: string[];
  /** Members mentioned (GroupAtInfo), and whether everyone is. */
  atUsers?: string[];
  atAll?: boolean;
  needReadReceipt?: boolean;
  /** Sent with SendMsgControl NoUnread: it counts toward no one's unread (live events only). */
  noUnread?: boolean;
  isRevoked: boolean;
  isModified: boolean;
}

export const GroupMessageDraft = z.object({
  /** Sends it in this topic of a Community (TopicId); absent for the group's own stream. */
  topicId: z.string().min(1).optional(),
  random: MsgRandom,
  body: MsgBody,
  cloudCustomData: z.string().optional(),
  priority: MsgPriority.optional(),
  /** Delivered to online members only, not stored (OnlineOnlyFlag). */
  onlineOnly: z.boolean().optional(),
  /** Targeted members (To_Account): they alone receive it; it counts toward no one's unread. */
  to: z.array(UserId).min(1).optional(),
  atUsers: z.array(UserId).optional(),
  atAll: z.boolean().optional(),
  needReadReceipt: z.boolean().optional(),
  /** SendMsgControl NoUnread. */
  noUnread: z.boolean().optional(),
  /** REST ForbidCallbackControl: skips Group.CallbackBeforeSendMsg / AfterSendMsg. */
  forbidBeforeCallback: z.boolean().optional(),
  forbidAfterCallback: z.boolean().optional(),
});
export type GroupMessageDraft = z.infer<typeof GroupMessageDraft>;

/** What a send answers; `dropReason` is "MsgFreqCtrl" when the group's rate dropped it. */
export interface GroupSendResult {
  seq: number;
  time: number;
  random: number;
  dropReason: "" | "MsgFreqCtrl";
}

/** Tencent's group tip operation types (TIMGroupTipElem). */
export const GroupTipType = {
  memberJoined: 1,
  memberQuit: 2,
  memberKicked: 3,
  adminSet: 4,
  adminCancelled: 5,
  groupProfileUpdated: 6,
  memberProfileUpdated: 7,
} as const;

/** Tencent's group system notice operation types (TIMGroupSystemNoticeElem). */
export const GroupNoticeType = {
  joinRequest: 1,
  requestAccepted: 2,
  requestRefused: 3,
  kicked: 4,
  dismissed: 5,
  created: 6,
  invited: 7,
  quit: 8,
  adminSet: 9,
  adminCancelled: 10,
  inviteToAccept: 12,
  custom: 255,
} as const;

/**
 * Events a member's devices receive about a group (not in the user's sync sequence: groups catch up by MsgSeq).
 * A message's events carry its `topicId` when it is a topic's: devices file it under `GROUP{topicId}`.
 */
export type GroupEvent =
  | { kind: "groupMessage"; message: GroupMessage }
  | { kind: "groupMessageRevoked"; groupId: string; seq: number; topicId?: string }
  | { kind: "groupMessageModified"; message: GroupMessage }
  /** TIMGroupTipElem: shown in the group's message stream. */
  | { kind: "groupTip"; groupId: string; operationType: number; operatorId: string; userIds: string[]; time: number; profile?: Record<string, unknown> }
  /** TIMGroupSystemNoticeElem: addressed to the user, not shown in the group. */
  | { kind: "groupSystemNotice"; groupId: string; operationType: number; operatorId: string; time: number; message?: string }
  /** The user's group list changed (joined, left, dismissed, profile): fetch it again. */
  | { kind: "groupListUpdated"; groupId: string }
  /** GROUP_ATTRIBUTES_UPDATED: the group's attributes as they now are, all of them. */
  | { kind: "groupAttributesUpdated"; groupId: string; groupAttributes: Record<string, string> }
  /** GROUP_COUNTER_UPDATED: the counters that changed, with their new values, and those deleted. */
  | { kind: "groupCounterUpdated"; groupId: string; counters: Record<string, number>; deletedKeys: string[] }
  /** A Community topic was created, changed or destroyed (TOPIC_CREATED, TOPIC_UPDATED, TOPIC_DELETED). */
  | { kind: "topicCreated" | "topicUpdated"; groupId: string; topic: TopicProfile }
  | { kind: "topicDeleted"; groupId: string; topicIds: string[] };
