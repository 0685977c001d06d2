/**
 * The SDK's Message and Conversation objects, with @tencentcloud/chat's field
 * names, and their mapping to and from the server's message model.
 */
import type { Conversation as ServerConversation, GroupConversation as ServerGroupConversation } from "../domain/events.ts";
import type { GroupEvent, GroupMessage } from "../domain/groupMessage.ts";
import type { MsgBody, MsgElem, StoredC2CMessage } from "../domain/message.ts";
import { ChatError, SdkErrorCode, TYPES } from "./constants.ts";

export type MessageStatus = "unSend" | "success" | "fail";

export interface Message {
  ID: string;
  type: string;
  payload: Record<string, unknown>;
  conversationID: string;
  conversationType: string;
  to: string;
  from: string;
  flow: "in" | "out";
  time: number;
  status: MessageStatus;
  isRevoked: boolean;
  isModified: boolean;
  isPeerRead: boolean;
  isDeleted: boolean;
  needReadReceipt: boolean;
  readReceiptInfo: { readCount: number; unreadCount: number };
  priority: string;
  nick: string;
  avatar: string;
  cloudCustomData: string;
  /** The message's sequence (Tencent's MsgSeq; a group's own sequence in groups). */
  sequence: number;
  random: number;
  /** Group messages: the members mentioned, TYPES.MSG_AT_ALL for everyone. */
  atUserList: string[];
  /** The elements as sent; the first one is also `type` and `payload`. */
  _elements: MsgElem[];
}

export interface Conversation {
  conversationID: string;
  type: string;
  unreadCount: number;
  lastMessage: {
    messageForShow: string;
    lastTime: number;
    fromAccount: string;
    type: string;
    payload: Record<string, unknown>;
    isRevoked: boolean;
    isPeerRead: boolean;
  } | null;
  /** One-to-one conversations: the peer (empty userID in group conversations). */
  userProfile: { userID: string; nick?: string; avatar?: string };
  /** Group conversations: the group. */
  groupProfile?: { groupID: string; name: string; type: string; avatar: string };
  /** Unread messages of a group conversation that mention the user or everyone. */
  groupAtInfoList: { groupID: string; messageSequence: number; atType: number }[];
  isPinned: boolean;
  draftText: string;
  /** Group conversations: the user's MsgFlag ("AcceptNotNotify": counted, no badge). */
  messageRemindType?: string;
}

export const c2cConversationID = (userID: string) => `${TYPES.CONV_C2C}${userID}`;
export const groupConversationID = (groupID: string) => `${TYPES.CONV_GROUP}${groupID}`;
export const isGroupConversation = (conversationID: unknown): conversationID is string =>
  typeof conversationID === "string" && conversationID.startsWith(TYPES.CONV_GROUP) && conversationID.length > TYPES.CONV_GROUP.length;

/** The group of a group conversation ID; throws for other kinds. */
export function groupOf(conversationID: unknown): string {
  if (!isGroupConversation(conversationID)) throw new ChatError(SdkErrorCode.invalidParameter, `conversationID must be "GROUP<groupID>" (got ${JSON.stringify(conversationID)})`);
  return conversationID.slice(TYPES.CONV_GROUP.length);
}

/** Tencent's topic ids are `{groupID}@TOPIC#_{suffix}`; a group's own id never holds the separator. */
const topicSeparator = "@TOPIC#_";

/** The Community a topic id belongs to; undefined for a group's own id. */
export function communityOf(id: string): string | undefined {
  const at = id.indexOf(topicSeparator);
  return at > 0 ? id.slice(0, at) : undefined;
}

/** The group, and the topic when it is one, that a group conversation ID ("GROUP{groupID}" or "GROUP{topicID}") names. */
export function streamOf(conversationID: unknown): { groupID: string; topicID?: string } {
  const id = groupOf(conversationID);
  const groupID = communityOf(id);
  return groupID === undefined ? { groupID: id } : { groupID, topicID: id };
}

/** Where a group message was sent: its topic, or its group. Its conversation is GROUP and this; its MsgSeq counts here. */
export const sentTo = (m: Pick<GroupMessage, "groupId" | "topicId">) => m.topicId ?? m.groupId;

/** A group message's ID: its group (or topic) and MsgSeq (messages not stored, seq 0, by their Random). */
export const groupMessageID = (groupID: string, seq: number, random: number) => (seq ? `${groupID}-${seq}` : `${groupID}-0-${random}`);

/** The peer of a one-to-one conversation ID; throws for other kinds. */
export function peerOf(conversationID: unknown): string {
  if (typeof conversationID !== "string" || !conversationID.startsWith(TYPES.CONV_C2C) || conversationID.length <= 3) {
    throw new ChatError(SdkErrorCode.invalidParameter, `conversationID must be "C2C<userID>" (got ${JSON.stringify(conversationID)})`);
  }
  return conversationID.slice(TYPES.CONV_C2C.length);
}

type Payload = Record<string, unknown>;

/** Tencent's payload field names, per element type. */
export function payloadOf(element: MsgElem): Payload {
  const c = element.MsgContent as Record<string, unknown>;
  switch (element.MsgType) {
    case "TIMTextElem":
      return { text: c.Text };
    case "TIMFaceElem":
      return { index: c.Index, data: c.Data ?? "" };
    case "TIMLocationElem":
      return { description: c.Desc ?? "", longitude: c.Longitude, latitude: c.Latitude };
    case "TIMCustomElem":
      return { data: c.Data ?? "", description: c.Desc ?? "", extension: c.Ext ?? "" };
    case "TIMSoundElem":
      return { url: c.Url, uuid: c.UUID ?? "", size: c.Size ?? 0, second: c.Second ?? 0, downloadFlag: c.Download_Flag ?? 2 };
    case "TIMImageElem":
      return {
        uuid: c.UUID ?? "",
        imageFormat: c.ImageFormat ?? 255,
        imageInfoArray: (c.ImageInfoArray as Record<string, unknown>[]).map((i) => ({ type: i.Type, size: i.Size ?? 0, width: i.Width ?? 0, height: i.Height ?? 0, url: i.URL })),
      };
    case "TIMFileElem":
      return { fileUrl: c.Url, uuid: c.UUID ?? "", fileSize: c.FileSize ?? 0, fileName: c.FileName ?? "" };
    case "TIMVideoFileElem":
      return {
        videoUrl: c.VideoUrl,
        videoUUID: c.VideoUUID ?? "",
        videoSize: c.VideoSize ?? 0,
        videoSecond: c.VideoSecond ?? 0,
        videoFormat: c.VideoFormat ?? "",
        thumbUrl: c.ThumbUrl ?? "",
        thumbUUID: c.ThumbUUID ?? "",
        thumbSize: c.ThumbSize ?? 0,
        thumbWidth: c.ThumbWidth ?? 0,
        thumbHeight: c.ThumbHeight ?? 0,
      };
    case "TIMRelayElem":
      return { title: c.Title, abstractList: c.AbstractList ?? [], compatibleText: c.CompatibleText ?? "", messageList: c.MsgList ?? [] };
  }
}

const need = (value: unknown, name: string, type: "string" | "number") => {
  if (typeof value !== type) throw new ChatError(SdkErrorCode.invalidParameter, `payload.${name} must be a ${type}`);
  return value;
};

/** The element a create*Message payload stands for. */
export function elementOf(type: string, p: Payload): MsgElem {
  switch (type) {
    case TYPES.MSG_TEXT:
      return { MsgType: "TIMTextElem", MsgContent: { Text: need(p.text, "text", "string") as string } };
    case TYPES.MSG_FACE:
      return { MsgType: "TIMFaceElem", MsgContent: { Index: need(p.index, "index", "number") as number, Data: (p.data as string) ?? "" } };
    case TYPES.MSG_LOCATION:
      return {
        MsgType: "TIMLocationElem",
        MsgContent: { Desc: (p.description as string) ?? "", Longitude: need(p.longitude, "longitude", "number") as number, Latitude: need(p.latitude, "latitude", "number") as number },
      };
    case TYPES.MSG_CUSTOM:
      return { MsgType: "TIMCustomElem", MsgContent: { Data: (p.data as string) ?? "", Desc: (p.description as string) ?? "", Ext: (p.extension as string) ?? "" } };
    case TYPES.MSG_AUDIO:
      return { MsgType: "TIMSoundElem", MsgContent: { Url: need(p.url, "url", "string") as string, UUID: (p.uuid as string) ?? "", Size: (p.size as number) ?? 0, Second: (p.second as number) ?? 0, Download_Flag: 2 } };
    case TYPES.MSG_IMAGE: {
      const infos = p.imageInfoArray;
      if (!Array.isArray(infos) || infos.length === 0) throw new ChatError(SdkErrorCode.invalidParameter, "payload.imageInfoArray must list the image's URLs");
      return {
        MsgType: "TIMImageElem",
        MsgContent: {
          UUID: (p.uuid as string) ?? "",
          ImageFormat: ((p.imageFormat as number) ?? 255) as 1,
          ImageInfoArray: infos.map((i: Payload, n: number) => ({
            Type: ((i.type as number) ?? n + 1) as 1,
            Size: (i.size as number) ?? 0,
            Width: (i.width as number) ?? 0,
            Height: (i.height as number) ?? 0,
            URL: need(i.url, "imageInfoArray[].url", "string") as string,
          })),
        },
      };
    }
    case TYPES.MSG_FILE:
      return { MsgType: "TIMFileElem", MsgContent: { Url: need(p.fileUrl, "fileUrl", "string") as string, UUID: (p.uuid as string) ?? "", FileSize: (p.fileSize as number) ?? 0, FileName: (p.fileName as string) ?? "", Download_Flag: 2 } };
    case TYPES.MSG_VIDEO:
      return {
        MsgType: "TIMVideoFileElem",
        MsgContent: {
          VideoUrl: need(p.videoUrl, "videoUrl", "string") as string,
          VideoUUID: (p.videoUUID as string) ?? "",
          VideoSize: (p.videoSize as number) ?? 0,
          VideoSecond: (p.videoSecond as number) ?? 0,
          VideoFormat: (p.videoFormat as string) ?? "",
          VideoDownloadFlag: 2,
          ThumbUrl: (p.thumbUrl as string) ?? "",
          ThumbUUID: (p.thumbUUID as string) ?? "",
          ThumbSize: (p.thumbSize as number) ?? 0,
          ThumbWidth: (p.thumbWidth as number) ?? 0,
          ThumbHeight: (p.thumbHeight as number) ?? 0,
          ThumbDownloadFlag: 2,
        },
      };
    case TYPES.MSG_MERGER:
      return {
        MsgType: "TIMRelayElem",
        MsgContent: {
          Title: need(p.title, "title", "string") as string,
          MsgNum: Array.isArray(p.messageList) ? p.messageList.length : 0,
          CompatibleText: (p.compatibleText as string) ?? "",
          AbstractList: (p.abstractList as string[]) ?? [],
          MsgList: (p.messageList as never[]) ?? [],
        },
      };
    default:
      throw new ChatError(SdkErrorCode.invalidParameter, `unknown message type ${type}`);
  }
}

/** A Message built from a server copy. */
export function fromServer(m: StoredC2CMessage, me: string): Message {
  const first = m.body[0];
  const peer = m.flow === "out" ? m.to : m.from;
  return {
    ID: m.key,
    type: first?.MsgType ?? "",
    payload: first ? payloadOf(first) : {},
    conversationID: c2cConversationID(peer),
    conversationType: TYPES.CONV_C2C,
    to: m.to,
    from: m.from,
    flow: m.from === me ? "out" : "in",
    time: m.time,
    status: "success",
    isRevoked: m.isRevoked,
    isModified: m.isModified,
    isPeerRead: m.isPeerRead,
    isDeleted: false,
    needReadReceipt: m.needReadReceipt ?? false,
    readReceiptInfo: { readCount: m.receiptRead ? 1 : 0, unreadCount: m.needReadReceipt && !m.receiptRead ? 1 : 0 },
    priority: TYPES.MSG_PRIORITY_NORMAL,
    nick: "",
    avatar: "",
    cloudCustomData: m.cloudCustomData ?? "",
    sequence: m.msgSeq,
    random: m.random,
    atUserList: [],
    _elements: m.body,
  };
}

/** A Message built from a group's stored message (a topic's is in the topic's conversation, `to` the topic). */
export function fromGroupServer(m: GroupMessage, me: string): Message {
  const first = m.body[0]!;
  const to = sentTo(m);
  return {
    ID: groupMessageID(to, m.seq, m.random),
    type: first.MsgType,
    payload: payloadOf(first),
    conversationID: groupConversationID(to),
    conversationType: TYPES.CONV_GROUP,
    to,
    from: m.from,
    flow: m.from === me ? "out" : "in",
    time: m.time,
    status: "success",
    isRevoked: m.isRevoked,
    isModified: m.isModified,
    isPeerRead: false,
    isDeleted: false,
    needReadReceipt: m.needReadReceipt ?? false,
    readReceiptInfo: { readCount: 0, unreadCount: 0 },
    priority: m.priority,
    nick: "",
    avatar: "",
    cloudCustomData: m.cloudCustomData ?? "",
    sequence: m.seq,
    random: m.random,
    atUserList: [...(m.atUsers ?? []), ...(m.atAll ? [TYPES.MSG_AT_ALL] : [])],
    _elements: m.body,
  };
}

/** The server's group profile field names, as Tencent's SDK names them. */
const groupFieldNames: Record<string, string> = {
  faceUrl: "avatar",
  ownerAccount: "ownerID",
  applyJoinOption: "joinOption",
  muteAllMember: "muteAllMembers",
  appDefinedData: "groupCustomField",
};

export function renameGroupFields(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [groupFieldNames[k] ?? k, v]));
}

let noticeCount = 0;

/** A group tip (TIMGroupTipElem) as the message it is shown as in the group. */
export function tipMessage(e: Extract<GroupEvent, { kind: "groupTip" }>, me: string): Message {
  const { muteUntil, ...profile } = e.profile ?? {};
  const payload: Payload = { operatorID: e.operatorId, operationType: e.operationType, userIDList: e.userIds };
  if (muteUntil !== undefined) payload.memberList = e.userIds.map((userID) => ({ userID, muteTime: Math.max(0, Number(muteUntil) - e.time) }));
  if (Object.keys(profile).length > 0) payload.newGroupProfile = renameGroupFields(profile);
  return notice(TYPES.MSG_GRP_TIP, payload, groupConversationID(e.groupId), TYPES.CONV_GROUP, e.groupId, e.time, me);
}

/** A group system notice (TIMGroupSystemNoticeElem), addressed to the user in the system conversation. */
export function systemNoticeMessage(e: Extract<GroupEvent, { kind: "groupSystemNotice" }>, me: string, groupName: string): Message {
  const payload: Payload = { operatorID: e.operatorId, operationType: e.operationType, groupProfile: { groupID: e.groupId, name: groupName }, handleMessage: e.message ?? "" };
  if (e.operationType === 255) payload.userDefinedField = e.message ?? "";
  return notice(TYPES.MSG_GRP_SYS_NOTICE, payload, TYPES.CONV_SYSTEM, TYPES.CONV_SYSTEM, me, e.time, me);
}

function notice(type: string, payload: Payload, conversationID: string, conversationType: string, to: string, time: number, me: string): Message {
  const random = ++noticeCount;
  return {
    ...fromServer(
      { key: `${conversationID}-notice-${time}-${random}`, from: TYPES.CONV_SYSTEM, to, msgSeq: 0, random, time, body: [], seq: 0, peer: to, flow: "in", isRevoked: false, isModified: false, isPeerRead: false, receiptRead: false },
      me,
    ),
    type,
    payload,
    conversationID,
    conversationType,
  };
}

export function bodyOf(message: Message): MsgBody {
  return [elementOf(message.type, message.payload), ...message._elements.slice(1)];
}

const summaries: Record<string, string> = {
  TIMImageElem: "[Image]",
  TIMSoundElem: "[Voice]",
  TIMFileElem: "[File]",
  TIMFaceElem: "[Sticker]",
  TIMVideoFileElem: "[Video]",
  TIMLocationElem: "[Location]",
  TIMCustomElem: "[Custom message]",
  TIMRelayElem: "[Chat history]",
};

const recalledText = "[Recalled]";

/** A conversation's `lastMessage`, as the list shows it. */
export function lastMessageOf(m: Message): NonNullable<Conversation["lastMessage"]> {
  return {
    messageForShow: m.isRevoked ? recalledText : m.type === TYPES.MSG_TEXT ? String(m.payload.text) : summaries[m.type] ?? "",
    lastTime: m.time,
    fromAccount: m.from,
    type: m.type,
    payload: m.payload,
    isRevoked: m.isRevoked,
    isPeerRead: m.isPeerRead,
  };
}

/** A `lastMessage` after its message was recalled. */
export function recalledLast(last: NonNullable<Conversation["lastMessage"]>): NonNullable<Conversation["lastMessage"]> {
  return { ...last, messageForShow: recalledText, isRevoked: true };
}

/** A conversation (one-to-one or group) that has no last message yet. */
export function emptyConversation(conversationID: string): Conversation {
  const group = isGroupConversation(conversationID);
  const id = group ? groupOf(conversationID) : peerOf(conversationID);
  return {
    conversationID,
    type: group ? TYPES.CONV_GROUP : TYPES.CONV_C2C,
    unreadCount: 0,
    lastMessage: null,
    userProfile: { userID: group ? "" : id },
    ...(group ? { groupProfile: { groupID: id, name: "", type: "", avatar: "" } } : {}),
    groupAtInfoList: [],
    isPinned: false,
    draftText: "",
  };
}

function atInfoOf(c: ServerGroupConversation): Conversation["groupAtInfoList"] {
  if (!c.mentionedSeq && !c.mentionedAll) return [];
  const atType = c.mentionedSeq && c.mentionedAll ? TYPES.CONV_AT_ALL_AT_ME : c.mentionedSeq ? TYPES.CONV_AT_ME : TYPES.CONV_AT_ALL;
  return [{ groupID: c.groupId, messageSequence: c.mentionedSeq || (c.lastMessage?.seq ?? 0), atType }];
}

export function conversationFromServer(c: ServerConversation | ServerGroupConversation, me: string): Conversation {
  if ("groupId" in c) {
    return {
      ...emptyConversation(groupConversationID(c.groupId)),
      groupProfile: { groupID: c.groupId, name: c.name, type: c.groupType, avatar: "" },
      unreadCount: c.unreadCount,
      lastMessage: c.lastMessage ? lastMessageOf(fromGroupServer(c.lastMessage, me)) : null,
      isPinned: c.pinned,
      messageRemindType: c.messageRemindType,
      // Mentions the server kept while the user was away (the newest unread one).
      groupAtInfoList: atInfoOf(c),
    };
  }
  return {
    ...emptyConversation(c2cConversationID(c.peer)),
    unreadCount: c.unreadCount,
    lastMessage: c.lastMessage ? lastMessageOf(fromServer(c.lastMessage, me)) : null,
    isPinned: c.pinned,
  };
}
