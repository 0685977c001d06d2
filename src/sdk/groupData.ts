/**
 * What a group holds beside its members and messages, with
 * @tencentcloud/chat's names and shapes: attributes, Community topics and
 * read receipts, over the ops of docs/PROTOCOL.md; and the app events the
 * group connection's frames about them become.
 */
import type { GroupEvent } from "../domain/groupMessage.ts";
import type { TopicProfile } from "../domain/groupTopics.ts";
import { ChatError, EVENT, SdkErrorCode } from "./constants.ts";
import { needGroupID, ok, type Ok } from "./groups.ts";
import { groupOf, streamOf, type Message } from "./model.ts";

export interface Topic {
  topicID: string;
  topicName: string;
  avatar: string;
  introduction: string;
  notification: string;
  customData: string;
  muteAllMembers: boolean;
  createTime: number;
  nextMessageSeq: number;
}

export interface TopicOptions {
  groupID: string;
  topicName?: string;
  avatar?: string;
  notification?: string;
  introduction?: string;
  customData?: string;
}

type Attributes = Record<string, string>;
type TopicResults = { successTopicList: Topic[]; failureTopicList: { topicID: string; code: number; message: string }[] };

/** What each of these events' handlers receive in `data`. */
export interface GroupDataEventData {
  groupAttributesUpdated: { groupID: string; groupAttributes: Attributes };
  /** One event per counter; a deleted counter arrives with value 0. */
  onGroupCounterUpdated: { groupID: string; key: string; value: number };
  onTopicCreated: { groupID: string; topicID: string };
  onTopicUpdated: { groupID: string; topic: Topic };
  onTopicDeleted: { groupID: string; topicIDList: string[] };
}

type GroupDataEvent = { [K in keyof GroupDataEventData]: [K, GroupDataEventData[K]] }[keyof GroupDataEventData];

/** Message ids one receipt op may name. */
const receiptBatch = 50;

function topicOf(t: TopicProfile): Topic {
  return {
    topicID: t.topicId,
    topicName: t.name,
    avatar: t.faceUrl,
    introduction: t.introduction,
    notification: t.notification,
    customData: t.customString,
    muteAllMembers: t.muteAllMember,
    createTime: t.createTime,
    nextMessageSeq: t.nextMsgSeq,
  };
}

/** The group of a list of group messages (all from one group, as Tencent's SDK asks) and their MsgSeqs in batches. */
function receiptBatches(messages: Message[], method: string, keep: (m: Message) => boolean): { groupID: string; batches: number[][] } {
  if (!Array.isArray(messages) || messages.length === 0) throw new ChatError(SdkErrorCode.invalidParameter, `${method}() takes a non-empty list of messages`);
  const groupID = groupOf(messages[0]!.conversationID);
  if (messages.some((m) => m.conversationID !== messages[0]!.conversationID)) throw new ChatError(SdkErrorCode.invalidParameter, `${method}(): the messages must be from one conversation`);
  const seqs = messages.filter((m) => m.sequence > 0 && m.needReadReceipt && keep(m)).map((m) => m.sequence);
  const batches: number[][] = [];
  for (let i = 0; i < seqs.length; i += receiptBatch) batches.push(seqs.slice(i, i + receiptBatch));
  return { groupID, batches };
}

export class GroupDataApi {
  private readonly call: <T>(op: string, data?: unknown) => Promise<T>;
  /**
   * The attributes' version the last answer named, per group. A write names
   * it, so one made against attributes another member has changed since is
   * refused with 10056, as in Tencent's SDK; an update event means this
   * device has seen the newest, and its next write goes through.
   */
  private readonly versions = new Map<string, number>();

  constructor(call: <T>(op: string, data?: unknown) => Promise<T>) {
    this.call = call;
  }

  // ---------------------------------------------------------------- attributes

  /** All attributes, or those of `keyList`. */
  async getGroupAttributes(options: { groupID: string; keyList?: string[] }): Promise<Ok<{ groupAttributes: Attributes }>> {
    const groupID = needGroupID(options?.groupID, "getGroupAttributes");
    return ok({ groupAttributes: await this.attributes("getGroupAttributes", { groupID, keyList: options.keyList }) });
  }

  /** Adds or replaces the keys given; the others stay. */
  async setGroupAttributes(options: { groupID: string; groupAttributes: Attributes }): Promise<Ok<{ groupAttributes: Attributes }>> {
    const groupID = needGroupID(options?.groupID, "setGroupAttributes");
    await this.attributes("setGroupAttributes", { groupID, groupAttributes: options.groupAttributes, version: this.versions.get(groupID) });
    return ok({ groupAttributes: options.groupAttributes });
  }

  /** Deletes the keys given; an empty `keyList` deletes every attribute. */
  async deleteGroupAttributes(options: { groupID: string; keyList: string[] }): Promise<Ok<{ keyList: string[] }>> {
    const groupID = needGroupID(options?.groupID, "deleteGroupAttributes");
    const keyList = options.keyList ?? [];
    await this.attributes("deleteGroupAttributes", { groupID, keyList, version: this.versions.get(groupID) });
    return ok({ keyList });
  }

  /** Replaces every attribute with these: the keys not given are deleted, then the rest set. */
  async initGroupAttributes(options: { groupID: string; groupAttributes: Attributes }): Promise<Ok<{ groupAttributes: Attributes }>> {
    const groupID = needGroupID(options?.groupID, "initGroupAttributes");
    const wanted = options.groupAttributes ?? {};
    const current = await this.attributes("getGroupAttributes", { groupID });
    const gone = Object.keys(current).filter((key) => !Object.hasOwn(wanted, key));
    // Each step names the version the one before answered: a write by someone else in between is refused (10056).
    if (gone.length > 0) await this.attributes("deleteGroupAttributes", { groupID, keyList: gone, version: this.versions.get(groupID) });
    if (Object.keys(wanted).length > 0) await this.attributes("setGroupAttributes", { groupID, groupAttributes: wanted, version: this.versions.get(groupID) });
    return ok({ groupAttributes: wanted });
  }

  private async attributes(op: string, data: { groupID: string } & Record<string, unknown>): Promise<Attributes> {
    const answer = await this.call<{ groupAttributes: Attributes; version: number }>(op, data);
    this.versions.set(data.groupID, answer.version);
    return answer.groupAttributes;
  }

  // ---------------------------------------------------------------- Community topics

  async createTopicInCommunity(options: TopicOptions & { topicName: string; topicID?: string }): Promise<Ok<{ topicID: string }>> {
    const groupID = needGroupID(options?.groupID, "createTopicInCommunity");
    if (typeof options.topicName !== "string" || !options.topicName) throw new ChatError(SdkErrorCode.invalidParameter, "createTopicInCommunity() needs a topicName");
    return ok(await this.call<{ topicID: string }>("createTopicInCommunity", { ...options, groupID, topicID: options.topicID || undefined }));
  }

  /** The community's topics, or those of `topicIDList`. */
  async getTopicList(options: { groupID: string; topicIDList?: string[] }): Promise<Ok<TopicResults>> {
    const groupID = needGroupID(options?.groupID, "getTopicList");
    return ok(await this.call<TopicResults>("getTopicList", { groupID, topicIDList: options.topicIDList }));
  }

  async updateTopicProfile(options: TopicOptions & { topicID: string; muteAllMembers?: boolean }): Promise<Ok<{ topic: Topic }>> {
    const groupID = needGroupID(options?.groupID, "updateTopicProfile");
    return ok(await this.call<{ topic: Topic }>("updateTopicProfile", { ...options, groupID }));
  }

  /** Deletes the topics of `topicIDList`, or every topic when it is empty or absent. */
  async deleteTopicFromCommunity(options: { groupID: string; topicIDList?: string[] }): Promise<Ok<TopicResults>> {
    const groupID = needGroupID(options?.groupID, "deleteTopicFromCommunity");
    const topicIDList = options.topicIDList?.length ? options.topicIDList : (await this.getTopicList({ groupID })).data.successTopicList.map((t) => t.topicID);
    if (topicIDList.length === 0) return ok({ successTopicList: [], failureTopicList: [] });
    return ok(await this.call<TopicResults>("deleteTopicFromCommunity", { groupID, topicIDList }));
  }

  // ---------------------------------------------------------------- read receipts

  /** The user has read these messages of others that asked for a receipt (and so every one before the newest). */
  async sendReadReceipts(messages: Message[]): Promise<void> {
    const { groupID, batches } = receiptBatches(messages, "sendMessageReadReceipt", (m) => m.flow === "in");
    for (const seqs of batches) await this.call("sendGroupReadReceipts", { groupID, seqs });
  }

  /** Fills each message's `readReceiptInfo` with how many members have read it and how many not. */
  async readReceipts(messages: Message[]): Promise<Message[]> {
    const { groupID, batches } = receiptBatches(messages, "getMessageReadReceiptList", () => true);
    for (const seqs of batches) {
      const { receipts } = await this.call<{ receipts: { seq: number; readNum: number; unreadNum: number; code: number }[] }>("getGroupMessageReadReceipts", { groupID, seqs });
      for (const r of receipts) {
        if (r.code !== 0) continue;
        for (const m of messages) if (m.sequence === r.seq) m.readReceiptInfo = { readCount: r.readNum, unreadCount: r.unreadNum };
      }
    }
    return messages;
  }

  /** A page of the members who have read the message (`filter` 0) or not (1); pass `cursor` on until `isCompleted`. */
  async readMembers(options: { message: Message; filter: 0 | 1; cursor?: string; count?: number }) {
    const message = options?.message;
    const { groupID, topicID } = streamOf(message?.conversationID);
    if (topicID) throw new ChatError(SdkErrorCode.invalidParameter, "getGroupMessageReadMemberList(): topic messages have no read receipts");
    if (options.filter !== 0 && options.filter !== 1) throw new ChatError(SdkErrorCode.invalidParameter, "getGroupMessageReadMemberList() needs filter 0 (read) or 1 (unread)");
    const page = await this.call<{ userIds: string[]; cursor: string; finished: boolean }>("getGroupMessageReadMembers", {
      groupID,
      seq: message.sequence,
      filter: options.filter === 0 ? "read" : "unread",
      cursor: options.cursor || undefined,
      count: options.count,
    });
    return ok({
      groupID,
      messageID: message.ID,
      readUserIDList: options.filter === 0 ? page.userIds : [],
      unreadUserIDList: options.filter === 1 ? page.userIds : [],
      cursor: page.cursor,
      isCompleted: page.finished,
    });
  }

  // ---------------------------------------------------------------- events

  /** The app events a group connection frame about attributes, counters or topics becomes. */
  eventsOf(e: GroupEvent): GroupDataEvent[] {
    const groupID = "groupId" in e ? e.groupId : "";
    switch (e.kind) {
      case "groupAttributesUpdated":
        this.versions.delete(groupID);
        return [[EVENT.GROUP_ATTRIBUTES_UPDATED, { groupID, groupAttributes: e.groupAttributes }]];
      case "groupCounterUpdated":
        return [
          ...Object.entries(e.counters).map(([key, value]): GroupDataEvent => [EVENT.GROUP_COUNTER_UPDATED, { groupID, key, value }]),
          ...e.deletedKeys.map((key): GroupDataEvent => [EVENT.GROUP_COUNTER_UPDATED, { groupID, key, value: 0 }]),
        ];
      case "topicCreated":
        return [[EVENT.TOPIC_CREATED, { groupID, topicID: e.topic.topicId }]];
      case "topicUpdated":
        return [[EVENT.TOPIC_UPDATED, { groupID, topic: topicOf(e.topic) }]];
      case "topicDeleted":
        return [[EVENT.TOPIC_DELETED, { groupID, topicIDList: e.topicIds }]];
      default:
        return [];
    }
  }
}
