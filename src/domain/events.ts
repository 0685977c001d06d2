/**
 * What happens in one user's world, in the order of the user's sync sequence.
 * Live pushes and `sync` answers carry the same events, so a device that
 * reconnects catches up by asking for everything after its last `seq`.
 */
import type { GroupMessage } from "./groupMessage.ts";
import type { StoredC2CMessage } from "./message.ts";

export type UserEvent =
  /** A one-to-one message, received or sent (from any of the user's devices). seq 0: online-only, not stored. */
  | { kind: "message"; seq: number; message: StoredC2CMessage }
  | { kind: "messageRevoked"; seq: number; peer: string; key: string }
  | { kind: "messageModified"; seq: number; message: StoredC2CMessage }
  /** The user deleted these messages for themself. */
  | { kind: "messagesDeleted"; seq: number; peer: string; keys: string[] }
  /** The user read the conversation (on any device): its unread count is 0. */
  | { kind: "conversationRead"; seq: number; peer: string }
  /** The peer read the conversation up to and including the user's message `key`. */
  | { kind: "peerRead"; seq: number; peer: string; key: string }
  /** The peer sent read receipts for these of the user's messages. */
  | { kind: "readReceipts"; seq: number; peer: string; keys: string[] }
  | { kind: "conversationDeleted"; seq: number; peer: string }
  | { kind: "conversationPinned"; seq: number; peer: string; pinned: boolean }
  /** The user read the group conversation up to the group's MsgSeq `readSeq` (on any device, or by sending). */
  | { kind: "groupRead"; seq: number; groupId: string; readSeq: number }
  | { kind: "groupConversationPinned"; seq: number; groupId: string; pinned: boolean }
  | { kind: "groupConversationDeleted"; seq: number; groupId: string }
  /** The user was mentioned (@) in the group's message `groupSeq`. */
  | { kind: "groupMentioned"; seq: number; groupId: string; groupSeq: number };

export type UserEventKind = UserEvent["kind"];

export interface Conversation {
  peer: string;
  /** The last message shown for it, if any is kept. */
  lastMessage: StoredC2CMessage | null;
  /** Unix seconds of the last activity; orders the list. */
  time: number;
  unreadCount: number;
  pinned: boolean;
}

/** A group conversation in the user's list: unread is the group's last MsgSeq less the user's read point. */
export interface GroupConversation {
  groupId: string;
  groupType: string;
  name: string;
  lastMessage: GroupMessage | null;
  time: number;
  unreadCount: number;
  pinned: boolean;
  /** The user's MsgFlag: AcceptNotNotify counts unread without a badge (left out of the total); Discard receives nothing. */
  messageRemindType: string;
  /** The newest unread message that mentioned the user, or that mentioned everyone (0: none). */
  mentionedSeq: number;
  mentionedAll: boolean;
}

/** An answer to `sync`: events after the cursor, in order, and the cursor to ask from next. */
export interface SyncPage {
  events: UserEvent[];
  cursor: number;
  complete: boolean;
}
