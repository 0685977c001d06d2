/**
 * The message model, shared by the REST door, the WebSocket protocol, storage
 * and callbacks. Elements keep Tencent's wire shape ({MsgType, MsgContent});
 * everything around them is edge-im's own camelCase model.
 */
import { z } from "zod";
import { utf8Length } from "./account.ts";
import { ErrorCode, ImError } from "./errors.ts";

const uint = z.number().int().min(0);
const uint32 = z.number().int().min(0).max(0xffffffff);

export const TextElem = z.object({ MsgType: z.literal("TIMTextElem"), MsgContent: z.object({ Text: z.string() }) });

export const LocationElem = z.object({
  MsgType: z.literal("TIMLocationElem"),
  MsgContent: z.object({ Desc: z.string().optional(), Latitude: z.number().min(-90).max(90), Longitude: z.number().min(-180).max(180) }),
});

export const FaceElem = z.object({
  MsgType: z.literal("TIMFaceElem"),
  MsgContent: z.object({ Index: z.number().int(), Data: z.string().optional() }),
});

export const CustomElem = z.object({
  MsgType: z.literal("TIMCustomElem"),
  MsgContent: z.object({ Data: z.string().optional(), Desc: z.string().optional(), Ext: z.string().optional(), Sound: z.string().optional() }),
});

export const SoundElem = z.object({
  MsgType: z.literal("TIMSoundElem"),
  MsgContent: z.object({ Url: z.string(), UUID: z.string().optional(), Size: uint.optional(), Second: uint.optional(), Download_Flag: uint.optional() }),
});

export const ImageInfo = z.object({
  Type: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  Size: uint.optional(),
  Width: uint.optional(),
  Height: uint.optional(),
  URL: z.string(),
});

export const ImageElem = z.object({
  MsgType: z.literal("TIMImageElem"),
  MsgContent: z.object({
    UUID: z.string().optional(),
    ImageFormat: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4), z.literal(255)]).optional(),
    ImageInfoArray: z.array(ImageInfo).min(1).max(3),
  }),
});

export const FileElem = z.object({
  MsgType: z.literal("TIMFileElem"),
  MsgContent: z.object({ Url: z.string(), UUID: z.string().optional(), FileSize: uint.optional(), FileName: z.string().optional(), Download_Flag: uint.optional() }),
});

export const VideoFileElem = z.object({
  MsgType: z.literal("TIMVideoFileElem"),
  MsgContent: z.object({
    VideoUrl: z.string(),
    VideoUUID: z.string().optional(),
    VideoSize: uint.optional(),
    VideoSecond: uint.optional(),
    VideoFormat: z.string().optional(),
    VideoDownloadFlag: uint.optional(),
    ThumbUrl: z.string().optional(),
    ThumbUUID: z.string().optional(),
    ThumbSize: uint.optional(),
    ThumbWidth: uint.optional(),
    ThumbHeight: uint.optional(),
    ThumbFormat: z.string().optional(),
    ThumbDownloadFlag: uint.optional(),
  }),
});

/** A message carried inside a merged-forward element: sender, time and its own body. */
export const RelayedMessage = z.object({
  From_Account: z.string().optional(),
  MsgTimeStamp: uint.optional(),
  MsgBody: z.array(z.lazy(() => MsgElem)),
});

export const RelayElem = z.object({
  MsgType: z.literal("TIMRelayElem"),
  MsgContent: z.object({
    Title: z.string(),
    MsgNum: uint,
    CompatibleText: z.string().optional(),
    AbstractList: z.array(z.string()).optional(),
    MsgList: z.array(RelayedMessage).optional(),
  }),
});

export const MsgElem: z.ZodType<MsgElem> = z.discriminatedUnion("MsgType", [
  TextElem,
  LocationElem,
  FaceElem,
  CustomElem,
  SoundElem,
  ImageElem,
  FileElem,
  VideoFileElem,
  RelayElem,
]) as unknown as z.ZodType<MsgElem>;

export type MsgElem =
  | z.infer<typeof TextElem>
  | z.infer<typeof LocationElem>
  | z.infer<typeof FaceElem>
  | z.infer<typeof CustomElem>
  | z.infer<typeof SoundElem>
  | z.infer<typeof ImageElem>
  | z.infer<typeof FileElem>
  | z.infer<typeof VideoFileElem>
  | { MsgType: "TIMRelayElem"; MsgContent: { Title: string; MsgNum: number; CompatibleText?: string; AbstractList?: string[]; MsgList?: { From_Account?: string; MsgTimeStamp?: number; MsgBody: MsgElem[] }[] } };

export const MsgBody = z
  .array(MsgElem)
  .min(1, "must hold at least one element")
  .refine((body) => body.filter((e) => e.MsgType === "TIMCustomElem").length <= 1, "may hold at most one TIMCustomElem");
export type MsgBody = MsgElem[];

/** Tencent's limit on one message: body and custom data together. */
export const maxMessageBytes = 12 * 1024;

/** Rejects a message whose body and cloud custom data exceed 12 KB (93000). */
export function checkMessageSize(body: MsgBody, cloudCustomData: string | undefined): void {
  const bytes = utf8Length(JSON.stringify(body)) + (cloudCustomData ? utf8Length(cloudCustomData) : 0);
  if (bytes > maxMessageBytes) {
    throw new ImError(ErrorCode.messageTooLarge, `the message is ${bytes} bytes; at most ${maxMessageBytes} are allowed`);
  }
}

export const MsgRandom = uint32;
export const MsgSeq = uint32;

/** Longest a message may live (MsgLifeTime), in seconds: 7 days. */
export const maxMsgLifeTimeSeconds = 604_800;

/** What a sender asks for: the parts of a one-to-one message a client or REST call supplies. */
export const C2CDraft = z.object({
  to: z.string(),
  random: MsgRandom,
  msgSeq: MsgSeq.optional(),
  body: MsgBody,
  cloudCustomData: z.string().optional(),
  needReadReceipt: z.boolean().optional(),
  /** Seconds the message is kept for offline delivery; 0 = online devices only. */
  lifeTimeSeconds: z.number().int().min(0).max(maxMsgLifeTimeSeconds).optional(),
  /** Whether the sender's other devices and history get the message (Tencent's SyncOtherMachine 1/2). */
  syncToSender: z.boolean().optional(),
  /** Do not count towards the recipient's unread (SendMsgControl NoUnread). */
  noUnread: z.boolean().optional(),
  /** Do not change the conversation's last message (SendMsgControl NoLastMsg). */
  noLastMessage: z.boolean().optional(),
  /** Where the send came from, as callbacks name it (OptPlatform): "RESTAPI" for REST. */
  platform: z.string().optional(),
  /** The sending client's IP address, as callbacks name it (ClientIP); set by the door, never by the client. */
  clientIp: z.string().optional(),
  /** ForbidCallbackControl on REST: no before-send (ForbidBeforeSendMsgCallback) or after-send callback. */
  forbidBeforeCallback: z.boolean().optional(),
  forbidAfterCallback: z.boolean().optional(),
});
export type C2CDraft = z.infer<typeof C2CDraft>;

/** A one-to-one message as both sides store it. */
export interface C2CMessage {
  /** `${msgSeq}_${random}_${time}`, Tencent's MsgKey. */
  key: string;
  from: string;
  to: string;
  msgSeq: number;
  random: number;
  /** Unix seconds (Tencent's MsgTime). */
  time: number;
  body: MsgBody;
  cloudCustomData?: string;
  needReadReceipt?: boolean;
}

export function msgKey(msgSeq: number, random: number, time: number): string {
  return `${msgSeq}_${random}_${time}`;
}

/** One user's copy of a message, with the state only that copy has. */
export interface StoredC2CMessage extends C2CMessage {
  /** Position in the owner's sync sequence. */
  seq: number;
  /** The other side of the conversation, from the owner's point of view. */
  peer: string;
  flow: "in" | "out";
  isRevoked: boolean;
  isModified: boolean;
  /** For outgoing messages: the peer has read the conversation past this message. */
  isPeerRead: boolean;
  /** For outgoing messages that asked for one: the peer sent a read receipt. */
  receiptRead: boolean;
}
