/**
 * The SDK's Message and Conversation objects, with @tencentcloud/chat's field
 * names, and their mapping to and from the server's message model.
 */
import type { Conversation as ServerConversation } from "../domain/events.ts";
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
  /** The message's sequence (Tencent's MsgSeq). */
  sequence: number;
  random: number;
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
  userProfile: { userID: string; nick?: string; avatar?: string };
  isPinned: boolean;
  draftText: string;
}

export const c2cConversationID = (userID: string) => `${TYPES.CONV_C2C}${userID}`;

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
  const first = m.body[0]!;
  const peer = m.flow === "out" ? m.to : m.from;
  return {
    ID: m.key,
    type: first.MsgType,
    payload: payloadOf(first),
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
    _elements: m.body,
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

/** A conversation with `peer` that has no last message yet. */
export function emptyConversation(peer: string): Conversation {
  return { conversationID: c2cConversationID(peer), type: TYPES.CONV_C2C, unreadCount: 0, lastMessage: null, userProfile: { userID: peer }, isPinned: false, draftText: "" };
}

export function conversationFromServer(c: ServerConversation, me: string): Conversation {
  return {
    ...emptyConversation(c.peer),
    unreadCount: c.unreadCount,
    lastMessage: c.lastMessage ? lastMessageOf(fromServer(c.lastMessage, me)) : null,
    isPinned: c.pinned,
  };
}
