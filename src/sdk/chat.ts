/**
 * The chat instance: @tencentcloud/chat's surface over edge-im's WebSocket
 * protocol (docs/PROTOCOL.md). Keeps the conversation list and recent
 * messages in memory, catches up by sequence after every reconnect, and
 * emits each change once.
 */
import type { Conversation as ServerConversation, GroupConversation as ServerGroupConversation, SyncPage, UserEvent } from "../domain/events.ts";
import type { GroupEvent, GroupMessage, GroupSendResult } from "../domain/groupMessage.ts";
import type { StoredC2CMessage } from "../domain/message.ts";
import type { EventFrame } from "../domain/protocol.ts";
import { ChatError, EVENT, SdkErrorCode, TYPES } from "./constants.ts";
import { Connection } from "./connection.ts";
import { Emitter } from "./emitter.ts";
import { GroupApi, needGroupID, type CreateGroupOptions, type Group, type UpdateGroupOptions } from "./groups.ts";
import { GroupDataApi, type GroupDataEventData } from "./groupData.ts";
import { GroupStream } from "./groupStream.ts";
import { LiveRooms } from "./liveRooms.ts";
import {
  bodyOf,
  c2cConversationID,
  communityOf,
  conversationFromServer,
  elementOf,
  emptyConversation,
  fromGroupServer,
  fromServer,
  groupConversationID,
  groupMessageID,
  groupOf,
  isGroupConversation,
  lastMessageOf,
  recalledLast,
  peerOf,
  sentTo,
  streamOf,
  systemNoticeMessage,
  tipMessage,
  type Conversation,
  type Message,
} from "./model.ts";

/** What is applied while the conversation list is on its way: user events and group messages. */
type Applied = UserEvent | { kind: "groupMessage"; seq: number; message: Message; unread: boolean };

/** What each event's handlers receive in `data`. */
export interface EventData extends GroupDataEventData {
  sdkStateReady: object;
  sdkStateNotReady: object;
  onMessageReceived: Message[];
  onMessageModified: Message[];
  onMessageRevoked: Message[];
  onMessageReadByPeer: Message[];
  onMessageReadReceiptReceived: { conversationID: string; messageID: string; readCount: number; unreadCount: number }[];
  onConversationListUpdated: Conversation[];
  onTotalUnreadMessageCountUpdated: number;
  onGroupListUpdated: Group[];
  onProfileUpdated: Profile[];
  onUserStatusUpdated: unknown;
  blacklistUpdated: string[];
  onFriendListUpdated: Friend[];
  onFriendGroupListUpdated: unknown;
  onFriendApplicationListUpdated: Awaited<ReturnType<Chat["getFriendApplicationList"]>>["data"];
  kickedOut: { type: string; code?: number; message?: string };
  error: unknown;
  netStateChange: { state: string };
}
export type EventName = keyof EventData;
export type EventHandler<K extends EventName> = (event: { name: K; data: EventData[K] }) => void;

export interface CreateOptions {
  SDKAppID: number;
  /** The server's base URL, e.g. http://127.0.0.1:8787. */
  endpoint: string;
  /** Web (default), Android, iOS, Windows, Mac, … */
  platform?: string;
  /** Stable id of this installation or tab; a random one by default. */
  deviceID?: string;
  /** Keeps the sync cursor across page loads; localStorage when present. */
  cursorStore?: { get(key: string): string | null; set(key: string, value: string): void };
}

export interface Response<T> {
  code: 0;
  data: T;
}

const ok = <T>(data: T): Response<T> => ({ code: 0, data });
const sendTimeoutMs = 10_000;
const recentMessagesKept = 200;
const messagePage = 15;
/** Message ids remembered for paging and dedupe; the oldest go first. */
const rememberedIds = 5000;

/** Adds to a Map or Set used as a bounded memory, forgetting the oldest entries. */
function bounded<K, V>(collection: Map<K, V>, key: K, value: V): void;
function bounded<K>(collection: Set<K>, key: K): void;
function bounded<K, V>(collection: Map<K, V> | Set<K>, key: K, value?: V): void {
  if (collection instanceof Map) collection.set(key, value as V);
  else collection.add(key);
  while (collection.size > rememberedIds) collection.delete(collection.keys().next().value as K);
}

export class Chat {
  private readonly options: CreateOptions;
  private readonly emitter = new Emitter();
  private connection?: Connection;
  private userID?: string;
  private userSig = "";
  private connectUrl = "";
  private ready = false;
  private cursor = 0;
  private syncing?: Promise<void>;
  /** Live events that arrived while a catch-up was under way, applied when it ends. */
  private held: UserEvent[] = [];
  private conversations = new Map<string, Conversation>();
  /** Key and sync sequence of the message each conversation shows, to tell which changes touch it. */
  private lastKeys = new Map<string, { key: string; seq: number }>();
  /** Events applied while the conversation list is being fetched. */
  private appliedWhileLoading?: Applied[];
  private recent = new Map<string, Message[]>();
  private seqOf = new Map<string, number>();
  /** MsgRandoms of messages this instance is sending or sent, so their echo is not "received". */
  private sentHere = new Set<number>();
  private onlineOnlySeen = new Set<string>();
  /** Nick and avatar of users seen in conversations, for conversation and message objects. */
  private people = new Map<string, { nick: string; avatar: string }>();
  /** The user's groups as last listed. */
  private groupList = new Map<string, Group>();
  private readonly groupApi = new GroupApi({
    call: (op, data) => this.call(op, data),
    me: () => this.userID ?? "",
    people: async (userIDs) => {
      await this.learnPeople(userIDs);
      return this.people;
    },
    watchLive: (ticket) => this.live.watch(ticket),
    unwatchLive: (groupID) => this.live.stop(groupID),
  });
  private readonly live = new LiveRooms({
    connectUrl: () => this.connectUrl,
    userSig: () => this.userSig,
    join: async (groupID) => {
      const { live } = await this.call<{ live?: Parameters<LiveRooms["watch"]>[0] }>("joinGroup", { groupID });
      if (!live) throw new ChatError(SdkErrorCode.invalidParameter, `group ${groupID} is not a live room`);
      return live;
    },
    message: (m) => this.onGroupMessage(m),
    event: (e) => this.onGroupEvent(e),
    // Banned (the tip naming the user came first) or refused when joining again: the room put the user out.
    // Tencent's notice for it is not documented for live rooms; the group's "kicked out" notice (4) is the nearest.
    removed: (groupID) => void this.relayNotice({ kind: "groupSystemNotice", groupId: groupID, operationType: 4, operatorId: "", time: Math.floor(Date.now() / 1000) }, this.userID ?? ""),
  });
  private readonly groupData = new GroupDataApi((op, data) => this.call(op, data));
  private readonly groupStream = new GroupStream({
    call: (op, data) => this.call(op, data),
    groupList: async () => (await this.refreshGroupList()).map((g) => ({ groupId: g.groupID, lastSeq: g.lastMessage.lastSequence })),
    message: (m) => this.onGroupMessage(m),
    event: (e) => this.onGroupEvent(e),
    error: (error) => this.connection && this.emit(EVENT.ERROR, error),
    saved: () => {
      const saved = this.store()?.get(`${this.cursorKey()}:groups`);
      return saved ? (JSON.parse(saved) as Record<string, number>) : null;
    },
    save: (lastSeqs) => this.store()?.set(`${this.cursorKey()}:groups`, JSON.stringify(lastSeqs)),
  });

  constructor(options: CreateOptions) {
    if (!options || !Number.isInteger(options.SDKAppID)) throw new ChatError(SdkErrorCode.invalidParameter, "create() needs a numeric SDKAppID");
    if (typeof options.endpoint !== "string" || !/^https?:\/\//.test(options.endpoint)) {
      throw new ChatError(SdkErrorCode.invalidParameter, "create() needs endpoint: the server's http(s) base URL");
    }
    this.options = options;
  }

  on<K extends EventName>(name: K, handler: EventHandler<K>): void {
    this.emitter.on(name, handler as never);
  }

  off<K extends EventName>(name: K, handler: EventHandler<K>): void {
    this.emitter.off(name, handler as never);
  }

  private emit<K extends EventName>(name: K, data: EventData[K]): void {
    this.emitter.emit(name, data);
  }

  isReady(): boolean {
    return this.ready;
  }

  // ------------------------------------------------------------------ login

  async login(options: { userID: string; userSig: string }): Promise<Response<{ repeatLogin: boolean }>> {
    if (!options || typeof options.userID !== "string" || !options.userID || typeof options.userSig !== "string" || !options.userSig) {
      throw new ChatError(SdkErrorCode.invalidParameter, "login() needs userID and userSig");
    }
    if (this.connection && this.userID === options.userID) return ok({ repeatLogin: true });
    if (this.connection) await this.logout();
    this.userID = options.userID;
    this.userSig = options.userSig;
    const url = new URL("/v1/connect", this.options.endpoint.replace(/^http/, "ws"));
    url.searchParams.set("sdkappid", String(this.options.SDKAppID));
    url.searchParams.set("userid", options.userID);
    url.searchParams.set("platform", this.options.platform ?? "Web");
    url.searchParams.set("device", this.options.deviceID ?? randomDevice());
    this.connectUrl = url.toString();
    const groupsUrl = new URL("/v1/groups", url);
    groupsUrl.search = url.search;
    this.connection = new Connection({
      url: url.toString(),
      userSig: options.userSig,
      onLogin: (data, isReconnect) => this.afterLogin(data.seq, isReconnect),
      onEvent: (frame) => this.onEvent(frame),
      onNetState: (state) => this.emit(EVENT.NET_STATE_CHANGE, { state }),
      onEnd: (reason) => {
        this.reset();
        this.emit(EVENT.KICKED_OUT, reason);
        this.emit(EVENT.SDK_NOT_READY, {});
      },
    });
    try {
      await Promise.all([this.connection.start(), this.groupStream.start(groupsUrl.toString(), options.userSig)]);
    } catch (error) {
      this.connection?.stop();
      this.reset();
      throw error;
    }
    this.ready = true;
    this.emit(EVENT.SDK_READY, {});
    return ok({ repeatLogin: false });
  }

  async logout(): Promise<Response<object>> {
    if (!this.connection) throw new ChatError(SdkErrorCode.notLoggedIn, "not logged in");
    const connection = this.connection;
    await connection.request("logout", {}, 2000).catch(() => undefined);
    connection.stop();
    this.reset();
    this.emit(EVENT.SDK_NOT_READY, {});
    return ok({});
  }

  private reset(): void {
    this.groupStream.stop();
    this.live.stopAll();
    this.groupList.clear();
    this.connection = undefined;
    this.ready = false;
    this.userID = undefined;
    this.cursor = 0;
    this.held = [];
    this.conversations.clear();
    this.lastKeys.clear();
    this.recent.clear();
    this.seqOf.clear();
    this.people.clear();
    this.sentHere.clear();
  }

  private cursorKey(): string {
    return `edge-im:${this.options.SDKAppID}:${this.userID}:cursor`;
  }

  private store() {
    if (this.options.cursorStore) return this.options.cursorStore;
    const ls = (globalThis as { localStorage?: { getItem(k: string): string | null; setItem(k: string, v: string): void } }).localStorage;
    return ls ? { get: (k: string) => ls.getItem(k), set: (k: string, v: string) => ls.setItem(k, v) } : undefined;
  }

  private async afterLogin(serverSeq: number, isReconnect: boolean): Promise<void> {
    if (!isReconnect) {
      const saved = Number(this.store()?.get(this.cursorKey()) ?? NaN);
      // A first login starts from where this device left off, or from now.
      this.cursor = Number.isFinite(saved) && saved <= serverSeq ? saved : serverSeq;
    }
    await this.catchUp();
    await this.loadConversations();
  }

  // ------------------------------------------------------------------ requests

  private async call<T>(op: string, data?: unknown, timeoutMs?: number): Promise<T> {
    if (!this.connection) throw new ChatError(SdkErrorCode.notLoggedIn, "not logged in: call login() first");
    const answer = await this.connection.request(op, data, timeoutMs);
    if (answer.code !== 0) throw new ChatError(answer.code, answer.message);
    return answer.data as T;
  }

  // ------------------------------------------------------------------ events and sync

  private onEvent(frame: EventFrame): void {
    const event = frame.data as UserEvent | Record<string, unknown>;
    if (typeof (event as UserEvent).seq === "number" && "kind" in event) {
      const e = event as UserEvent;
      if (e.seq === 0) return this.apply(e);
      if (e.seq <= this.cursor) return;
      // The catch-up's last page may have been read before this event was stored: keep it for then.
      if (this.syncing) this.held.push(e);
      else if (e.seq === this.cursor + 1) {
        this.apply(e);
        this.advance(e.seq);
      } else this.catchUpSoon();
      return;
    }
    void this.relayRelationEvent(frame.event, event);
  }

  /** Fetches everything after the cursor, in order, applying each event once. */
  private catchUp(): Promise<void> {
    this.syncing ??= (async () => {
      try {
        for (;;) {
          const page = await this.call<SyncPage>("sync", { after: this.cursor, limit: 100 });
          for (const e of page.events) if (e.seq > this.cursor) this.apply(e);
          this.advance(Math.max(this.cursor, page.cursor));
          if (page.complete && this.applyHeld()) break;
        }
      } finally {
        this.syncing = undefined;
        this.held = [];
      }
    })();
    return this.syncing;
  }

  /** A catch-up started by a live event: a failure is reported, and the next event or reconnect tries again. */
  private catchUpSoon(): void {
    this.catchUp().catch((error: unknown) => {
      if (this.connection) this.emit(EVENT.ERROR, error);
    });
  }

  /**
   * Applies the events pushed during the catch-up that follow on from the
   * cursor. False when one is missing in between: another page is needed.
   */
  private applyHeld(): boolean {
    const held = this.held.sort((a, b) => a.seq - b.seq);
    this.held = [];
    for (const e of held) {
      if (e.seq <= this.cursor) continue;
      if (e.seq !== this.cursor + 1) return false;
      this.apply(e);
      this.advance(e.seq);
    }
    return true;
  }

  private advance(seq: number): void {
    this.cursor = seq;
    this.store()?.set(this.cursorKey(), String(seq));
  }

  private apply(e: UserEvent): void {
    const me = this.userID!;
    if (e.seq) this.appliedWhileLoading?.push(e);
    switch (e.kind) {
      case "message": {
        if (e.seq === 0) {
          if (this.onlineOnlySeen.has(e.message.key)) return;
          bounded(this.onlineOnlySeen, e.message.key);
        }
        const message = this.withPerson(fromServer(e.message, me));
        if (e.seq) bounded(this.seqOf, message.ID, e.seq);
        const echo = message.flow === "out" && this.sentHere.delete(message.random);
        this.remember(message);
        this.touchConversation(message, !echo && message.flow === "in", e.seq);
        if (!echo) this.emit(EVENT.MESSAGE_RECEIVED, [message]);
        return;
      }
      case "messageRevoked": {
        const message = this.find(e.peer, e.key);
        if (message) message.isRevoked = true;
        this.changeLast(c2cConversationID(e.peer), e.key, (last) => (message ? lastMessageOf(message) : recalledLast(last)));
        this.emit(EVENT.MESSAGE_REVOKED, [message ?? ({ ID: e.key, conversationID: c2cConversationID(e.peer), isRevoked: true } as Message)]);
        return;
      }
      case "messageModified": {
        const message = fromServer(e.message, me);
        this.replace(message);
        this.emit(EVENT.MESSAGE_MODIFIED, [message]);
        return;
      }
      case "messagesDeleted": {
        const id = c2cConversationID(e.peer);
        const list = this.recent.get(id);
        if (list) this.recent.set(id, list.filter((m) => !e.keys.includes(m.ID)));
        const last = this.lastKeys.get(id);
        if (last && e.keys.includes(last.key)) void this.showNewestLeft(e.peer, last.key);
        return;
      }
      case "conversationRead": {
        const c = this.conversations.get(c2cConversationID(e.peer));
        if (c && c.unreadCount > 0) {
          c.unreadCount = 0;
          this.conversationsChanged();
        }
        return;
      }
      case "peerRead": {
        const list = this.recent.get(c2cConversationID(e.peer)) ?? [];
        const upTo = list.findIndex((m) => m.ID === e.key);
        const read = list.filter((m, i) => m.flow === "out" && !m.isPeerRead && (upTo < 0 || i <= upTo));
        for (const m of read) m.isPeerRead = true;
        this.emit(EVENT.MESSAGE_READ_BY_PEER, read);
        return;
      }
      case "readReceipts": {
        const conversationID = c2cConversationID(e.peer);
        for (const key of e.keys) {
          const m = this.find(e.peer, key);
          if (m) m.readReceiptInfo = { readCount: 1, unreadCount: 0 };
        }
        this.emit(
          EVENT.MESSAGE_READ_RECEIPT_RECEIVED,
          e.keys.map((messageID) => ({ conversationID, messageID, readCount: 1, unreadCount: 0 })),
        );
        return;
      }
      case "conversationDeleted": {
        this.conversations.delete(c2cConversationID(e.peer));
        this.lastKeys.delete(c2cConversationID(e.peer));
        this.conversationsChanged();
        return;
      }
      case "conversationPinned": {
        const c = this.conversations.get(c2cConversationID(e.peer));
        if (c) c.isPinned = e.pinned;
        this.conversationsChanged();
        return;
      }
      case "groupRead": {
        const c = this.conversations.get(groupConversationID(e.groupId));
        if (!c) return;
        // Read on another device up to readSeq: what is newer stays unread.
        c.unreadCount = Math.min(c.unreadCount, Math.max(0, this.groupStream.lastSeq(e.groupId) - e.readSeq));
        c.groupAtInfoList = c.groupAtInfoList.filter((a) => a.messageSequence > e.readSeq);
        this.conversationsChanged();
        return;
      }
      case "groupConversationPinned": {
        const c = this.conversations.get(groupConversationID(e.groupId));
        if (c) c.isPinned = e.pinned;
        this.conversationsChanged();
        return;
      }
      case "groupConversationDeleted": {
        this.conversations.delete(groupConversationID(e.groupId));
        this.lastKeys.delete(groupConversationID(e.groupId));
        this.conversationsChanged();
        return;
      }
    }
  }

  // ------------------------------------------------------------------ group events (the group connection)

  private onGroupMessage(m: GroupMessage): void {
    const me = this.userID!;
    const message = this.withPerson(fromGroupServer(m, me));
    if (m.seq) bounded(this.seqOf, message.ID, m.seq);
    const echo = message.flow === "out" && this.sentHere.delete(message.random);
    this.remember(message);
    // A live room's comment stream is not a conversation: the server keeps none for it, nor unread.
    if (this.live.has(m.groupId)) {
      if (!echo) this.emit(EVENT.MESSAGE_RECEIVED, [message]);
      return;
    }
    const type = this.groupList.get(m.groupId)?.type ?? this.conversations.get(message.conversationID)?.groupProfile?.type;
    // Meeting groups and live rooms keep no unread counts, nor do targeted messages or those sent with NoUnread (as the server counts).
    const unread = m.from !== me && type !== TYPES.GRP_MEETING && type !== TYPES.GRP_AVCHATROOM && !m.to && !m.noUnread;
    this.appliedWhileLoading?.push({ kind: "groupMessage", seq: m.seq, message, unread });
    this.touchConversation(message, unread, m.seq);
    if (!echo) this.emit(EVENT.MESSAGE_RECEIVED, [message]);
  }

  private onGroupEvent(e: Exclude<GroupEvent, { kind: "groupMessage" }>): void {
    const me = this.userID!;
    switch (e.kind) {
      case "groupMessageRevoked": {
        const to = sentTo(e);
        const id = groupConversationID(to);
        const key = groupMessageID(to, e.seq, 0);
        const message = this.recent.get(id)?.find((m) => m.ID === key);
        if (message) message.isRevoked = true;
        this.changeLast(id, key, (last) => (message ? lastMessageOf(message) : recalledLast(last)));
        this.emit(EVENT.MESSAGE_REVOKED, [message ?? ({ ID: key, conversationID: id, conversationType: TYPES.CONV_GROUP, to, sequence: e.seq, isRevoked: true } as Message)]);
        return;
      }
      case "groupMessageModified": {
        const message = this.withPerson(fromGroupServer(e.message, me));
        this.replace(message);
        this.emit(EVENT.MESSAGE_MODIFIED, [message]);
        return;
      }
      case "groupTip":
        this.emit(EVENT.MESSAGE_RECEIVED, [tipMessage(e, me)]);
        return;
      case "groupSystemNotice":
        void this.relayNotice(e, me);
        return;
      case "groupListUpdated":
        this.refreshGroupList().catch((error: unknown) => this.connection && this.emit(EVENT.ERROR, error));
        return;
      default:
        for (const [name, data] of this.groupData.eventsOf(e)) this.emitter.emit(name, data);
    }
  }

  /** A system notice names its group: one the user is not in (yet, or any more) is looked up. */
  private async relayNotice(e: Extract<GroupEvent, { kind: "groupSystemNotice" }>, me: string): Promise<void> {
    const name = this.groupList.get(e.groupId)?.name ?? (await this.groupApi.searchGroupByID(e.groupId).then((r) => r.data.group.name, () => ""));
    this.emit(EVENT.MESSAGE_RECEIVED, [systemNoticeMessage(e, me, name)]);
  }

  /** Lists the user's groups again: GROUP_LIST_UPDATED when they changed, and group conversations show their names. */
  private async refreshGroupList(): Promise<Group[]> {
    const { groupList } = (await this.groupApi.getGroupList()).data;
    const summary = (list: Iterable<Group>) => JSON.stringify([...list].map((g) => [g.groupID, g.name, g.ownerID, g.memberCount]));
    const changed = summary(groupList) !== summary(this.groupList.values());
    this.groupList = new Map(groupList.map((g) => [g.groupID, g]));
    if (!changed) return groupList;
    let named = false;
    for (const c of this.conversations.values()) {
      const g = c.groupProfile && this.groupList.get(c.groupProfile.groupID);
      if (g && (c.groupProfile!.name !== g.name || c.groupProfile!.type !== g.type)) {
        c.groupProfile = { ...c.groupProfile!, name: g.name, type: g.type };
        named = true;
      }
    }
    if (named) this.conversationsChanged();
    this.emit(EVENT.GROUP_LIST_UPDATED, groupList);
    return groupList;
  }

  private async relayRelationEvent(name: string, data: unknown): Promise<void> {
    try {
      if (name === "friendListUpdated") this.emit(EVENT.FRIEND_LIST_UPDATED, (await this.getFriendList()).data);
      else if (name === "friendApplicationListUpdated") this.emit(EVENT.FRIEND_APPLICATION_LIST_UPDATED, (await this.getFriendApplicationList()).data);
      else if (name === "blacklistUpdated") this.emit(EVENT.BLACKLIST_UPDATED, (await this.getBlacklist()).data);
      else if (name === "profileUpdated") {
        const userID = (data as { userID: string }).userID;
        this.emit(EVENT.PROFILE_UPDATED, (await this.getUserProfile({ userIDList: [userID] })).data);
      }
    } catch (error) {
      this.emit(EVENT.ERROR, error);
    }
  }

  // ------------------------------------------------------------------ caches

  private withPerson(message: Message): Message {
    const person = this.people.get(message.from);
    if (person) Object.assign(message, person);
    return message;
  }

  private remember(message: Message): void {
    const list = this.recent.get(message.conversationID) ?? [];
    if (list.some((m) => m.ID === message.ID)) return;
    list.push(message);
    if (list.length > recentMessagesKept) list.splice(0, list.length - recentMessagesKept);
    this.recent.set(message.conversationID, list);
  }

  private replace(message: Message): void {
    const list = this.recent.get(message.conversationID);
    const i = list?.findIndex((m) => m.ID === message.ID) ?? -1;
    if (list && i >= 0) list[i] = message;
    this.changeLast(message.conversationID, message.ID, () => lastMessageOf(message));
  }

  private find(peer: string, key: string): Message | undefined {
    return this.recent.get(c2cConversationID(peer))?.find((m) => m.ID === key);
  }

  /** Counts a new message in its conversation; `seq` is its sync sequence (0: not stored). */
  private touchConversation(message: Message, unread: boolean, seq: number): void {
    // The server keeps no conversation, read point or unread count per topic: topics stay out of the list.
    if (communityOf(message.to) !== undefined) return;
    const id = message.conversationID;
    const existing = this.conversations.get(id);
    const base = existing ?? emptyConversation(id);
    const last = this.lastKeys.get(id);
    if (message.conversationType === TYPES.CONV_GROUP) {
      // The server's count already holds the group's messages up to the one its list showed.
      if (unread && seq > (last?.seq ?? 0)) this.countGroupUnread(base, message);
      const group = this.groupList.get(message.to);
      if (!existing && group) base.groupProfile = { groupID: group.groupID, name: group.name, type: group.type, avatar: group.avatar };
    } else {
      base.unreadCount += unread ? 1 : 0;
      if (!existing) void this.learnPeople([base.userProfile.userID]);
    }
    this.conversations.set(id, base);
    // A send's answer can arrive after newer messages were applied: the list shows the newest.
    if (!last || seq === 0 || seq >= last.seq) {
      base.lastMessage = lastMessageOf(message);
      if (seq) this.lastKeys.set(id, { key: message.ID, seq });
    }
    this.conversationsChanged();
  }

  private countGroupUnread(c: Conversation, message: Message): void {
    c.unreadCount++;
    const me = message.atUserList.includes(this.userID!);
    const all = message.atUserList.includes(TYPES.MSG_AT_ALL);
    if (me || all) {
      c.groupAtInfoList.push({ groupID: message.to, messageSequence: message.sequence, atType: me && all ? TYPES.CONV_AT_ALL_AT_ME : me ? TYPES.CONV_AT_ME : TYPES.CONV_AT_ALL });
    }
  }

  /** Shows a change of message `key` on its conversation, if it is the message the list shows. */
  private changeLast(conversationID: string, key: string, change: (last: NonNullable<Conversation["lastMessage"]>) => Conversation["lastMessage"]): void {
    const c = this.conversations.get(conversationID);
    if (!c?.lastMessage || this.lastKeys.get(conversationID)?.key !== key) return;
    c.lastMessage = change(c.lastMessage);
    this.conversationsChanged();
  }

  /** The message the list showed was deleted: show the newest one left, as the history has it. */
  private async showNewestLeft(peer: string, deletedKey: string): Promise<void> {
    const id = c2cConversationID(peer);
    try {
      const { messages } = await this.call<{ messages: StoredC2CMessage[] }>("getMessageList", { peer, limit: 1 });
      const c = this.conversations.get(id);
      // A newer message arrived meanwhile and is shown already.
      if (!c || this.lastKeys.get(id)?.key !== deletedKey) return;
      const newest = messages[0];
      c.lastMessage = newest ? lastMessageOf(this.withPerson(fromServer(newest, this.userID!))) : null;
      if (newest) this.lastKeys.set(id, { key: newest.key, seq: newest.seq });
      else this.lastKeys.delete(id);
      this.conversationsChanged();
    } catch (error) {
      if (this.connection) this.emit(EVENT.ERROR, error);
    }
  }

  private async loadConversations(): Promise<void> {
    const list: Conversation[] = [];
    const lastKeys = new Map<string, { key: string; seq: number }>();
    const applied: Applied[] = (this.appliedWhileLoading = []);
    try {
      await this.fetchConversations(list, lastKeys);
    } finally {
      this.appliedWhileLoading = undefined;
    }
    this.conversations = new Map(list.map((c) => [c.conversationID, c]));
    this.lastKeys = lastKeys;
    // The list can be older than events applied while it was on its way: those count again on top.
    for (const e of applied) this.applyToList(e);
    this.conversationsChanged();
    void this.learnPeople(list.map((c) => c.userProfile.userID).filter(Boolean));
  }

  private async fetchConversations(list: Conversation[], lastKeys: Map<string, { key: string; seq: number }>): Promise<void> {
    for (let offset = 0; ; offset += 100) {
      const page = await this.call<{ conversations: (ServerConversation | ServerGroupConversation)[]; complete: boolean }>("getConversationList", { offset, limit: 100 });
      list.push(...page.conversations.map((c) => conversationFromServer(c, this.userID!)));
      for (const c of page.conversations) {
        if (!c.lastMessage) continue;
        if ("groupId" in c) lastKeys.set(groupConversationID(c.groupId), { key: groupMessageID(c.groupId, c.lastMessage.seq, c.lastMessage.random), seq: c.lastMessage.seq });
        else lastKeys.set(c2cConversationID(c.peer), { key: c.lastMessage.key, seq: c.lastMessage.seq });
      }
      if (page.complete) break;
    }
  }

  /**
   * What an event applied while the list was on its way does to the list
   * fetched: messages and reads newer than a conversation's last message are
   * not in it; the rest is idempotent.
   */
  private applyToList(e: Applied): void {
    if (e.kind === "groupMessage") return this.touchConversation(e.message, e.unread, e.seq);
    // Group conversation events are idempotent on any list.
    if ("groupId" in e) return this.apply(e);
    const id = c2cConversationID("peer" in e ? e.peer : e.message.peer);
    const newer = e.seq > (this.lastKeys.get(id)?.seq ?? 0);
    const c = this.conversations.get(id);
    switch (e.kind) {
      case "message":
        if (newer) this.touchConversation(this.withPerson(fromServer(e.message, this.userID!)), e.message.flow === "in", e.seq);
        return;
      case "conversationRead":
        if (newer && c) c.unreadCount = 0;
        return;
      case "conversationPinned":
        if (c) c.isPinned = e.pinned;
        return;
      case "messageRevoked":
        this.changeLast(id, e.key, recalledLast);
        return;
      case "conversationDeleted":
        if (newer) this.conversations.delete(id);
        return;
    }
  }

  /** Fetches nick and avatar of users not known yet, then shows them on their conversations. */
  private async learnPeople(userIDs: string[]): Promise<void> {
    const unknown = [...new Set(userIDs)].filter((id) => !this.people.has(id));
    try {
      for (let i = 0; i < unknown.length; i += 100) {
        for (const p of (await this.getUserProfile({ userIDList: unknown.slice(i, i + 100) })).data) this.people.set(p.userID, { nick: p.nick, avatar: p.avatar });
      }
    } catch {
      return; // names are a nicety: the list works without them
    }
    let changed = false;
    for (const c of this.conversations.values()) {
      const person = this.people.get(c.userProfile.userID);
      if (person && (c.userProfile.nick !== person.nick || c.userProfile.avatar !== person.avatar)) {
        c.userProfile = { userID: c.userProfile.userID, ...person };
        changed = true;
      }
    }
    if (changed) this.conversationsChanged();
  }

  private sortedConversations(): Conversation[] {
    return [...this.conversations.values()].sort(
      (a, b) => Number(b.isPinned) - Number(a.isPinned) || (b.lastMessage?.lastTime ?? 0) - (a.lastMessage?.lastTime ?? 0),
    );
  }

  private conversationsChanged(): void {
    this.emit(EVENT.CONVERSATION_LIST_UPDATED, this.sortedConversations());
    this.emit(EVENT.TOTAL_UNREAD_MESSAGE_COUNT_UPDATED, this.getTotalUnreadMessageCount());
  }

  // ------------------------------------------------------------------ messages

  private createMessage(
    type: string,
    options: { to: string; conversationType?: string; payload: Record<string, unknown>; needReadReceipt?: boolean; cloudCustomData?: string; priority?: string },
  ): Message {
    if (!this.userID) throw new ChatError(SdkErrorCode.notLoggedIn, "log in before creating messages");
    if (!options || typeof options.to !== "string" || !options.to) throw new ChatError(SdkErrorCode.invalidParameter, "the message needs `to`");
    const conversationType = options.conversationType ?? TYPES.CONV_C2C;
    if (conversationType !== TYPES.CONV_C2C && conversationType !== TYPES.CONV_GROUP) {
      throw new ChatError(SdkErrorCode.invalidParameter, "conversationType must be TYPES.CONV_C2C or TYPES.CONV_GROUP");
    }
    const element = elementOf(type, options.payload ?? {});
    const random = crypto.getRandomValues(new Uint32Array(1))[0]!;
    return {
      ...fromServer(
        {
          key: `${this.userID}-${random}`,
          from: this.userID,
          to: options.to,
          msgSeq: 0,
          random,
          time: Math.floor(Date.now() / 1000),
          body: [element],
          needReadReceipt: options.needReadReceipt ?? false,
          cloudCustomData: options.cloudCustomData,
          seq: 0,
          peer: options.to,
          flow: "out",
          isRevoked: false,
          isModified: false,
          isPeerRead: false,
          receiptRead: false,
        },
        this.userID,
      ),
      status: "unSend",
      ...(conversationType === TYPES.CONV_GROUP
        ? {
            conversationID: groupConversationID(options.to),
            conversationType,
            priority: options.priority ?? TYPES.MSG_PRIORITY_NORMAL,
            atUserList: Array.isArray(options.payload.atUserList) ? (options.payload.atUserList as string[]) : [],
          }
        : {}),
    };
  }

  createTextMessage = (o: Parameters<Chat["createMessage"]>[1]) => this.createMessage(TYPES.MSG_TEXT, o);
  createImageMessage = (o: Parameters<Chat["createMessage"]>[1]) => this.createMessage(TYPES.MSG_IMAGE, o);
  createAudioMessage = (o: Parameters<Chat["createMessage"]>[1]) => this.createMessage(TYPES.MSG_AUDIO, o);
  createVideoMessage = (o: Parameters<Chat["createMessage"]>[1]) => this.createMessage(TYPES.MSG_VIDEO, o);
  createFileMessage = (o: Parameters<Chat["createMessage"]>[1]) => this.createMessage(TYPES.MSG_FILE, o);
  createFaceMessage = (o: Parameters<Chat["createMessage"]>[1]) => this.createMessage(TYPES.MSG_FACE, o);
  createLocationMessage = (o: Parameters<Chat["createMessage"]>[1]) => this.createMessage(TYPES.MSG_LOCATION, o);
  createCustomMessage = (o: Parameters<Chat["createMessage"]>[1]) => this.createMessage(TYPES.MSG_CUSTOM, o);
  createMergerMessage = (o: Parameters<Chat["createMessage"]>[1]) => this.createMessage(TYPES.MSG_MERGER, o);
  /** A group text message mentioning `payload.atUserList` (user IDs, or TYPES.MSG_AT_ALL for everyone). */
  createTextAtMessage = (o: Parameters<Chat["createMessage"]>[1] & { payload: { text: string; atUserList: string[] } }) => this.createMessage(TYPES.MSG_TEXT, o);

  /** A copy of `message` to send on to someone else (its first element, as Tencent's forward does). */
  createForwardMessage(options: { to: string; conversationType?: string; payload: Message }): Message {
    const original = options?.payload;
    if (!original || typeof original.type !== "string") throw new ChatError(SdkErrorCode.invalidParameter, "payload must be the message to forward");
    return this.createMessage(original.type, { to: options.to, conversationType: options.conversationType, payload: original.payload });
  }

  /** Sends a created message. While disconnected it waits up to 10 s for the connection, then fails. */
  async sendMessage(message: Message): Promise<Response<{ message: Message }>> {
    if (!message || message.flow !== "out" || typeof message.random !== "number") throw new ChatError(SdkErrorCode.invalidParameter, "sendMessage() takes a message made by a create…Message method");
    if (message.conversationType === TYPES.CONV_GROUP) return this.sendGroupMessage(message);
    // The server pushes the sender's copy to this device too, possibly before it answers.
    this.sentHere.add(message.random);
    try {
      const sent = await this.call<{ key: string; time: number; msgSeq: number; seq: number }>(
        "sendMessage",
        { to: message.to, random: message.random, body: bodyOf(message), needReadReceipt: message.needReadReceipt || undefined, cloudCustomData: message.cloudCustomData || undefined },
        sendTimeoutMs,
      );
      Object.assign(message, { ID: sent.key, time: sent.time, sequence: sent.msgSeq, status: "success" as const });
      // Already applied (cursor past it) or not sequenced: no echo will come.
      if (sent.seq === 0 || sent.seq <= this.cursor) this.sentHere.delete(message.random);
      if (sent.seq) bounded(this.seqOf, sent.key, sent.seq);
      this.remember(message);
      this.touchConversation(message, false, sent.seq);
      return ok({ message });
    } catch (error) {
      this.sentHere.delete(message.random);
      message.status = "fail";
      throw error;
    }
  }

  private async sendGroupMessage(message: Message): Promise<Response<{ message: Message }>> {
    // `to` is the group, or a topic of a Community: the topic's MsgSeq counts it.
    const to = message.to;
    const { groupID, topicID } = streamOf(message.conversationID);
    // The group's copy reaches this device too, possibly before the answer.
    this.sentHere.add(message.random);
    try {
      if (this.live.has(groupID)) return await this.sendLiveMessage(message);
      const atUsers = message.atUserList.filter((u) => u !== TYPES.MSG_AT_ALL);
      const sent = await this.call<GroupSendResult>(
        "sendGroupMessage",
        {
          groupID,
          topicID,
          random: message.random,
          body: bodyOf(message),
          cloudCustomData: message.cloudCustomData || undefined,
          priority: message.priority,
          atUsers: atUsers.length > 0 ? atUsers : undefined,
          atAll: message.atUserList.includes(TYPES.MSG_AT_ALL) || undefined,
          needReadReceipt: message.needReadReceipt || undefined,
        },
        sendTimeoutMs,
      );
      // Past the group's message rate the server drops the message (MsgDropReason); 10023 is Tencent's code for it.
      if (sent.dropReason) throw new ChatError(10023, "the group's message rate is exceeded: the message was dropped");
      Object.assign(message, { ID: groupMessageID(to, sent.seq, sent.random), time: sent.time, sequence: sent.seq, status: "success" as const });
      this.groupStream.sent(to, sent.seq);
      // Already applied, or counted as applied: no echo will be handed on.
      if (sent.seq === 0 || this.groupStream.lastSeq(to) >= sent.seq) this.sentHere.delete(message.random);
      if (sent.seq) bounded(this.seqOf, message.ID, sent.seq);
      this.remember(message);
      this.touchConversation(message, false, sent.seq);
      return ok({ message });
    } catch (error) {
      this.sentHere.delete(message.random);
      message.status = "fail";
      throw error;
    }
  }

  /** A viewer sends into a live room through the room's live connection, whose shard vouches that it joined. */
  private async sendLiveMessage(message: Message): Promise<Response<{ message: Message }>> {
    const sent = await this.live.send(message.to, { random: message.random, body: bodyOf(message), cloudCustomData: message.cloudCustomData || undefined, priority: message.priority });
    if (sent.dropReason) throw new ChatError(10023, "the live room's message rate is exceeded: the message was dropped");
    Object.assign(message, { ID: groupMessageID(message.to, sent.seq, sent.random), time: sent.time, sequence: sent.seq, status: "success" as const });
    if (this.live.lastSeq(message.to) >= sent.seq) this.sentHere.delete(message.random);
    this.remember(message);
    return ok({ message });
  }

  /** Viewers online in a live room this device watches (`data.memberCount`), at most a few seconds old. */
  async getGroupOnlineMemberCount(groupID: string): Promise<Response<{ memberCount: number }>> {
    const id = needGroupID(groupID, "getGroupOnlineMemberCount");
    const { memberCount } = await this.live.call<{ memberCount: number }>(id, "getGroupOnlineMemberCount", { groupID: id });
    return ok({ memberCount });
  }

  async revokeMessage(message: Message): Promise<Response<{ message: Message }>> {
    if (isGroupConversation(message?.conversationID)) await this.call("revokeGroupMessage", { ...streamOf(message.conversationID), seq: message.sequence });
    else await this.call("revokeMessage", { peer: peerOf(message?.conversationID), key: message.ID });
    message.isRevoked = true;
    return ok({ message });
  }

  /** Sends the message's changed payload or cloudCustomData. */
  async modifyMessage(message: Message): Promise<Response<{ message: Message }>> {
    if (isGroupConversation(message?.conversationID)) {
      const modified = await this.call<GroupMessage>("modifyGroupMessage", {
        ...streamOf(message.conversationID),
        seq: message.sequence,
        body: bodyOf(message),
        cloudCustomData: message.cloudCustomData || undefined,
      });
      const result = this.withPerson(fromGroupServer(modified, this.userID!));
      this.replace(result);
      return ok({ message: result });
    }
    const modified = await this.call<StoredC2CMessage>("modifyMessage", {
      peer: peerOf(message?.conversationID),
      key: message.ID,
      body: bodyOf(message),
      cloudCustomData: message.cloudCustomData || undefined,
    });
    const result = fromServer(modified, this.userID!);
    this.replace(result);
    return ok({ message: result });
  }

  async deleteMessage(messages: Message[]): Promise<Response<{ messageList: Message[] }>> {
    if (!Array.isArray(messages) || messages.length === 0) throw new ChatError(SdkErrorCode.invalidParameter, "deleteMessage() takes a non-empty list of messages");
    const peer = peerOf(messages[0]!.conversationID);
    await this.call("deleteMessages", { peer, keys: messages.map((m) => m.ID) });
    for (const m of messages) m.isDeleted = true;
    return ok({ messageList: messages });
  }

  /** One page (oldest first) of a conversation's history, before `nextReqMessageID`. */
  async getMessageList(options: { conversationID: string; nextReqMessageID?: string }): Promise<Response<{ messageList: Message[]; nextReqMessageID: string; isCompleted: boolean }>> {
    const group = isGroupConversation(options?.conversationID);
    const peer = group ? "" : peerOf(options?.conversationID);
    const before = options.nextReqMessageID ? this.seqOf.get(options.nextReqMessageID) : undefined;
    if (options.nextReqMessageID && before === undefined) throw new ChatError(SdkErrorCode.invalidParameter, "nextReqMessageID is not a message this instance has seen");
    if (group) {
      const groupPage = await this.call<{ messages: GroupMessage[]; complete: boolean }>("getGroupMessageList", { ...streamOf(options.conversationID), before, limit: messagePage });
      const messageList = groupPage.messages.map((m) => {
        bounded(this.seqOf, groupMessageID(sentTo(m), m.seq, m.random), m.seq);
        return this.withPerson(fromGroupServer(m, this.userID!));
      }).reverse();
      return ok({ messageList, nextReqMessageID: messageList[0]?.ID ?? "", isCompleted: groupPage.complete });
    }
    const page = await this.call<{ messages: StoredC2CMessage[]; complete: boolean }>("getMessageList", { peer, before, limit: messagePage });
    const messageList = page.messages.map((m) => {
      bounded(this.seqOf, m.key, m.seq);
      return this.withPerson(fromServer(m, this.userID!));
    }).reverse();
    return ok({ messageList, nextReqMessageID: messageList[0]?.ID ?? "", isCompleted: page.complete });
  }

  async setMessageRead(options: { conversationID: string }): Promise<Response<object>> {
    if (!isGroupConversation(options?.conversationID)) {
      await this.call("setMessageRead", { peer: peerOf(options?.conversationID) });
      return ok({});
    }
    const { groupID, topicID } = streamOf(options.conversationID);
    // A topic has no read point to move (nor unread count).
    if (topicID) return ok({});
    await this.call("setGroupMessageRead", { groupID });
    const c = this.conversations.get(options.conversationID);
    if (c && (c.unreadCount > 0 || c.groupAtInfoList.length > 0)) {
      c.unreadCount = 0;
      c.groupAtInfoList = [];
      this.conversationsChanged();
    }
    return ok({});
  }

  async sendMessageReadReceipt(messages: Message[]): Promise<Response<object>> {
    if (!Array.isArray(messages) || messages.length === 0) throw new ChatError(SdkErrorCode.invalidParameter, "sendMessageReadReceipt() takes a non-empty list of messages");
    if (isGroupConversation(messages[0]!.conversationID)) await this.groupData.sendReadReceipts(messages);
    else await this.call("sendReadReceipts", { peer: peerOf(messages[0]!.conversationID), keys: messages.map((m) => m.ID) });
    return ok({});
  }

  /** Group messages get their members' read and unread counts in `readReceiptInfo`; one-to-one messages show what this instance knows. */
  async getMessageReadReceiptList(messages: Message[]): Promise<Response<{ messageList: Message[] }>> {
    if (!Array.isArray(messages) || messages.length === 0) throw new ChatError(SdkErrorCode.invalidParameter, "getMessageReadReceiptList() takes a non-empty list of messages");
    return ok({ messageList: isGroupConversation(messages[0]!.conversationID) ? await this.groupData.readReceipts(messages) : messages });
  }

  getGroupMessageReadMemberList = (o: Parameters<GroupDataApi["readMembers"]>[0]) => this.groupData.readMembers(o);

  // ------------------------------------------------------------------ conversations

  async getConversationList(): Promise<Response<{ conversationList: Conversation[]; isSyncCompleted: boolean }>> {
    if (!this.connection) throw new ChatError(SdkErrorCode.notLoggedIn, "not logged in: call login() first");
    return ok({ conversationList: this.sortedConversations(), isSyncCompleted: this.ready });
  }

  async getConversationProfile(conversationID: string): Promise<Response<{ conversation: Conversation }>> {
    const c = this.conversations.get(conversationID) ?? emptyConversation(conversationID);
    return ok({ conversation: c });
  }

  async deleteConversation(options: string | { conversationIDList: string[]; clearHistoryMessage?: boolean }): Promise<Response<{ conversationIDList: string[] }>> {
    const ids = typeof options === "string" ? [options] : options?.conversationIDList;
    if (!Array.isArray(ids) || ids.length === 0) throw new ChatError(SdkErrorCode.invalidParameter, "deleteConversation() needs a conversationID");
    const clearHistory = typeof options === "string" ? true : options.clearHistoryMessage ?? true;
    for (const id of ids) {
      if (!isGroupConversation(id)) {
        await this.call("deleteConversation", { peer: peerOf(id), clearHistory });
        continue;
      }
      await this.call("deleteGroupConversation", { groupID: groupOf(id) });
      this.conversations.delete(id);
      this.lastKeys.delete(id);
      this.conversationsChanged();
    }
    return ok({ conversationIDList: ids });
  }

  async pinConversation(options: { conversationID: string; isPinned: boolean }): Promise<Response<{ conversationID: string }>> {
    if (isGroupConversation(options?.conversationID)) {
      await this.call("pinGroupConversation", { groupID: groupOf(options.conversationID), pinned: Boolean(options.isPinned) });
      const c = this.conversations.get(options.conversationID);
      if (c && c.isPinned !== Boolean(options.isPinned)) {
        c.isPinned = Boolean(options.isPinned);
        this.conversationsChanged();
      }
    } else await this.call("pinConversation", { peer: peerOf(options?.conversationID), pinned: Boolean(options.isPinned) });
    return ok({ conversationID: options.conversationID });
  }

  getTotalUnreadMessageCount(): number {
    let total = 0;
    for (const c of this.conversations.values()) total += c.unreadCount;
    return total;
  }

  // ------------------------------------------------------------------ groups (groups.ts)

  getGroupList = () => this.groupApi.getGroupList();
  getGroupProfile = (o: { groupID: string }) => this.groupApi.getGroupProfile(o);
  searchGroupByID = (groupID: string) => this.groupApi.searchGroupByID(groupID);
  createGroup = (o: CreateGroupOptions) => this.groupApi.createGroup(o);
  dismissGroup = (groupID: string) => this.groupApi.dismissGroup(groupID);
  updateGroupProfile = (o: UpdateGroupOptions) => this.groupApi.updateGroupProfile(o);
  joinGroup = (o: { groupID: string; applyMessage?: string; type?: string }) => this.groupApi.joinGroup(o);
  quitGroup = (groupID: string) => this.groupApi.quitGroup(groupID);
  changeGroupOwner = (o: { groupID: string; newOwnerID: string }) => this.groupApi.changeGroupOwner(o);
  getGroupMemberList = (o: { groupID: string; count?: number; offset?: number }) => this.groupApi.getGroupMemberList(o);
  getGroupMemberProfile = (o: { groupID: string; userIDList: string[] }) => this.groupApi.getGroupMemberProfile(o);
  addGroupMember = (o: { groupID: string; userIDList: string[] }) => this.groupApi.addGroupMember(o);
  deleteGroupMember = (o: { groupID: string; userIDList: string[]; reason?: string }) => this.groupApi.deleteGroupMember(o);
  setGroupMemberRole = (o: { groupID: string; userID: string; role: string }) => this.groupApi.setGroupMemberRole(o);
  setGroupMemberMuteTime = (o: { groupID: string; userID: string; muteTime: number }) => this.groupApi.setGroupMemberMuteTime(o);
  setGroupMemberNameCard = (o: { groupID: string; userID?: string; nameCard: string }) => this.groupApi.setGroupMemberNameCard(o);
  setGroupMemberCustomField = (o: { groupID: string; userID?: string; memberCustomField: { key: string; value: string }[] }) => this.groupApi.setGroupMemberCustomField(o);
  setMessageRemindType = (o: { groupID: string; messageRemindType: string }) => this.groupApi.setMessageRemindType(o);
  getGroupApplicationList = (o?: { groupID?: string }) => this.groupApi.getGroupApplicationList(o);
  handleGroupApplication = (o: Parameters<GroupApi["handleGroupApplication"]>[0]) => this.groupApi.handleGroupApplication(o);

  // ------------------------------------------------------------------ group attributes and Community topics (groupData.ts)

  getGroupAttributes = (o: Parameters<GroupDataApi["getGroupAttributes"]>[0]) => this.groupData.getGroupAttributes(o);
  setGroupAttributes = (o: Parameters<GroupDataApi["setGroupAttributes"]>[0]) => this.groupData.setGroupAttributes(o);
  deleteGroupAttributes = (o: Parameters<GroupDataApi["deleteGroupAttributes"]>[0]) => this.groupData.deleteGroupAttributes(o);
  initGroupAttributes = (o: Parameters<GroupDataApi["initGroupAttributes"]>[0]) => this.groupData.initGroupAttributes(o);
  createTopicInCommunity = (o: Parameters<GroupDataApi["createTopicInCommunity"]>[0]) => this.groupData.createTopicInCommunity(o);
  /** The topics listed are followed from now on: their live messages are ordered, and caught up after a reconnect. */
  getTopicList = async (o: Parameters<GroupDataApi["getTopicList"]>[0]) => {
    const listed = await this.groupData.getTopicList(o);
    this.groupStream.knowTopics(listed.data.successTopicList);
    return listed;
  };
  updateTopicProfile = (o: Parameters<GroupDataApi["updateTopicProfile"]>[0]) => this.groupData.updateTopicProfile(o);
  deleteTopicFromCommunity = (o: Parameters<GroupDataApi["deleteTopicFromCommunity"]>[0]) => this.groupData.deleteTopicFromCommunity(o);

  // ------------------------------------------------------------------ profiles

  async getMyProfile(): Promise<Response<Profile>> {
    if (!this.userID) throw new ChatError(SdkErrorCode.notLoggedIn, "not logged in");
    return ok((await this.getUserProfile({ userIDList: [this.userID] })).data[0]!);
  }

  async getUserProfile(options: { userIDList: string[] }): Promise<Response<Profile[]>> {
    const answer = await this.call<{ profiles: { userId: string; items: { tag: string; value: string | number }[]; code: number }[] }>("getUserProfile", { userIDList: options?.userIDList });
    return ok(answer.profiles.filter((p) => p.code === 0).map((p) => profileFromTags(p.userId, p.items)));
  }

  async updateMyProfile(options: Partial<Omit<Profile, "userID">>): Promise<Response<Profile>> {
    const items = Object.entries(options ?? {}).flatMap(([field, value]) => {
      if (field === "profileCustomField") return (value as { key: string; value: string }[]).map((c) => ({ tag: c.key, value: c.value }));
      const tag = profileTags[field];
      if (!tag) throw new ChatError(SdkErrorCode.invalidParameter, `updateMyProfile(): unknown field ${field}`);
      return [{ tag, value: value as string | number }];
    });
    await this.call("updateMyProfile", { items });
    return this.getMyProfile();
  }

  // ------------------------------------------------------------------ friends and blocklist

  async getFriendList(): Promise<Response<Friend[]>> {
    const friends: Friend[] = [];
    for (let after = 0; ; ) {
      const page = await this.call<{ friends: { friend: string; remark: string; lists: string[]; addSource: string; addWording: string; addTime: number }[]; next: number; complete: boolean }>("getFriendList", { after });
      friends.push(...page.friends.map((f) => ({ userID: f.friend, remark: f.remark, groupList: f.lists, source: f.addSource, wording: f.addWording, addTime: f.addTime })));
      if (page.complete) break;
      after = page.next;
    }
    return ok(friends);
  }

  async addFriend(options: { to: string; source?: string; wording?: string; type?: string; remark?: string; groupName?: string }): Promise<Response<{ userID: string; code: number; message: string }>> {
    const r = await this.call<{ userId: string; code: number; info: string }>("addFriend", {
      to: options?.to,
      source: options.source,
      wording: options.wording,
      type: options.type,
      remark: options.remark,
      listName: options.groupName,
    });
    if (r.code !== 0 && r.code !== 30539) throw new ChatError(r.code, r.info);
    return ok({ userID: r.userId, code: r.code, message: r.info });
  }

  async deleteFriend(options: { userIDList: string[]; type?: string }) {
    return ok((await this.call<{ results: unknown[] }>("deleteFriend", { userIDList: options?.userIDList, type: options.type })).results);
  }

  async checkFriend(options: { userIDList: string[]; type?: string }) {
    const r = await this.call<{ results: { userId: string; relation: string }[] }>("checkFriend", { userIDList: options?.userIDList, type: options.type });
    return ok({ successUserIDList: r.results.map((x) => ({ userID: x.userId, code: 0, relation: x.relation })), failureUserIDList: [] });
  }

  async updateFriend(options: { userID: string; remark?: string }) {
    return ok(await this.call("updateFriend", { to: options?.userID, remark: options.remark }));
  }

  async getFriendApplicationList() {
    const r = await this.call<{ incoming: Application[]; outgoing: Application[] }>("getFriendApplicationList");
    const friendApplicationList = [
      ...r.incoming.map((a) => ({ userID: a.requester, type: TYPES.SNS_APPLICATION_SENT_TO_ME, time: a.createdAt, source: a.addSource, wording: a.addWording })),
      ...r.outgoing.map((a) => ({ userID: a.target, type: TYPES.SNS_APPLICATION_SENT_BY_ME, time: a.createdAt, source: a.addSource, wording: a.addWording })),
    ];
    return ok({ friendApplicationList, unreadCount: r.incoming.length });
  }

  async acceptFriendApplication(options: { userID: string; remark?: string; type?: string }) {
    const type = options?.type === TYPES.SNS_APPLICATION_AGREE ? "agree" : "agreeAndAdd";
    return ok(await this.call("acceptFriendApplication", { userID: options?.userID, remark: options.remark, type }));
  }

  async refuseFriendApplication(options: { userID: string }) {
    return ok(await this.call("refuseFriendApplication", { userID: options?.userID }));
  }

  async deleteFriendApplication(options: { userID: string }) {
    return ok(await this.call("deleteFriendApplication", { userID: options?.userID }));
  }

  async getFriendGroupList() {
    const r = await this.call<{ lists: { name: string; members: string[] }[] }>("getFriendLists");
    return ok(r.lists.map((l) => ({ name: l.name, userIDList: l.members, count: l.members.length })));
  }

  async createFriendGroup(options: { name: string; userIDList?: string[] }) {
    return ok(await this.call("createFriendList", { name: options?.name, userIDList: options.userIDList }));
  }

  async deleteFriendGroup(options: { name: string }) {
    return ok(await this.call("deleteFriendList", { name: options?.name }));
  }

  async addToFriendGroup(options: { name: string; userIDList: string[] }) {
    return ok(await this.call("addToFriendList", { name: options?.name, userIDList: options.userIDList }));
  }

  async removeFromFriendGroup(options: { name: string; userIDList: string[] }) {
    return ok(await this.call("removeFromFriendList", { name: options?.name, userIDList: options.userIDList }));
  }

  async addToBlacklist(options: { userIDList: string[] }) {
    await this.call("addToBlacklist", { userIDList: options?.userIDList });
    return this.getBlacklist();
  }

  async removeFromBlacklist(options: { userIDList: string[] }) {
    await this.call("removeFromBlacklist", { userIDList: options?.userIDList });
    return this.getBlacklist();
  }

  async getBlacklist(): Promise<Response<string[]>> {
    const blocked: string[] = [];
    for (let offset = 0; ; ) {
      const page = await this.call<{ blocked: { blocked: string }[]; next: number; complete: boolean }>("getBlacklist", { offset, limit: 100 });
      blocked.push(...page.blocked.map((b) => b.blocked));
      if (page.complete) break;
      offset = page.next;
    }
    return ok(blocked);
  }
}

interface Application {
  requester: string;
  target: string;
  addSource: string;
  addWording: string;
  createdAt: number;
}

export interface Friend {
  userID: string;
  remark: string;
  groupList: string[];
  source: string;
  wording: string;
  addTime: number;
}

export interface Profile {
  userID: string;
  nick: string;
  avatar: string;
  gender: string;
  selfSignature: string;
  allowType: string;
  birthday: number;
  location: string;
  language: number;
  level: number;
  role: number;
  profileCustomField: { key: string; value: string | number }[];
}

const profileTags: Record<string, string> = {
  nick: "Tag_Profile_IM_Nick",
  avatar: "Tag_Profile_IM_Image",
  gender: "Tag_Profile_IM_Gender",
  selfSignature: "Tag_Profile_IM_SelfSignature",
  allowType: "Tag_Profile_IM_AllowType",
  birthday: "Tag_Profile_IM_BirthDay",
  location: "Tag_Profile_IM_Location",
  language: "Tag_Profile_IM_Language",
};

function profileFromTags(userID: string, items: { tag: string; value: string | number }[]): Profile {
  const get = (tag: string) => items.find((i) => i.tag === tag)?.value;
  return {
    userID,
    nick: String(get("Tag_Profile_IM_Nick") ?? ""),
    avatar: String(get("Tag_Profile_IM_Image") ?? ""),
    gender: String(get("Tag_Profile_IM_Gender") ?? TYPES.GENDER_UNKNOWN),
    selfSignature: String(get("Tag_Profile_IM_SelfSignature") ?? ""),
    allowType: String(get("Tag_Profile_IM_AllowType") ?? TYPES.ALLOW_TYPE_NEED_CONFIRM),
    birthday: Number(get("Tag_Profile_IM_BirthDay") ?? 0),
    location: String(get("Tag_Profile_IM_Location") ?? ""),
    language: Number(get("Tag_Profile_IM_Language") ?? 0),
    level: Number(get("Tag_Profile_IM_Level") ?? 0),
    role: Number(get("Tag_Profile_IM_Role") ?? 0),
    profileCustomField: items.filter((i) => i.tag.startsWith("Tag_Profile_Custom_")).map((i) => ({ key: i.tag, value: i.value })),
  };
}

function randomDevice(): string {
  return `web-${crypto.getRandomValues(new Uint32Array(2)).join("")}`;
}
