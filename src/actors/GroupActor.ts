/**
 * GroupActor: one per (SDKAppID, GroupId), named `SDKAppID:GroupId`. It owns
 * the group: profile, members with roles, mute state and custom fields, join
 * requests, the group's MsgSeq and its history (one stored copy). It is the
 * authority; the D1 directory follows it (`group/directory.ts`). Messages and
 * tips reach members' devices through the fan-out hubs (`group/fanout.ts`).
 * Each RPC method is one action, shared by the REST door and client ops.
 */
import { DurableObject } from "cloudflare:workers";
import { isAppAdmin, type App, type AppSettings } from "../domain/app.ts";
import { capture } from "../domain/errors.ts";
import type { GroupPolicy, GroupProfile, MsgPriority } from "../domain/group.ts";
import { GroupErrorCode, groupError } from "../domain/group.ts";
import type { GroupEvent, GroupMessageDraft } from "../domain/groupMessage.ts";
import { actorOf, type Actor } from "../domain/groupRules.ts";
import type { MsgBody } from "../domain/message.ts";
import type { Env } from "../env.ts";
import { AlarmScheduler } from "../mechanisms/alarms.ts";
import { countEntries, entryCounts, type EntryCounts } from "../ops/entryCount.ts";
import { AppCache } from "./appCache.ts";
import { userActor, type GroupRef } from "./refs.ts";
import { GroupDirectorySync } from "./group/directory.ts";
import { GroupCallbacks } from "./group/callbacks.ts";
import { GroupFanout } from "./group/fanout.ts";
import { GroupStore, type StoredMember } from "./group/GroupStore.ts";
import type { DirectoryChange, GroupCaller, GroupHost } from "./group/host.ts";
import { GroupMembership, type CreateGroupInput, type MemberChanges, type ProfileChanges } from "./group/membership.ts";
import { GroupMessages } from "./group/messages.ts";
import { GroupAdminMessages } from "./group/adminMessages.ts";
import { GroupImports, type ImportedMember, type ImportedMessage } from "./group/imports.ts";
import { GroupReceipts } from "./group/receipts.ts";
import { GroupAttributes, type AttributeWrite } from "./group/attributes.ts";
import { GroupTopics, type CreateTopicInput } from "./group/topics.ts";
import { GroupLive, liveHost, type AudienceChanges, type LiveDraft, type LiveSendPath } from "./group/live.ts";
import type { CounterChange, CounterMode } from "../domain/groupData.ts";
import type { TopicChanges } from "../domain/groupTopics.ts";
import { checkDirtyWords } from "../domain/moderation.ts";
import { ActorStats } from "./stats.ts";

export type { GroupCaller } from "./group/host.ts";
export type { CreateGroupInput, MemberChanges, ProfileChanges } from "./group/membership.ts";

/** Events of a live room that its whole audience sees (the room's profile, attributes and counters). */
const relayedToAudience = new Set<GroupEvent["kind"]>(["groupTip", "groupAttributesUpdated", "groupCounterUpdated"]);

export function parseGroupActorName(name: string): GroupRef {
  const colon = name.indexOf(":");
  return { sdkAppId: Number(name.slice(0, colon)), groupId: name.slice(colon + 1) };
}

export class GroupActor extends DurableObject<Env> implements GroupHost {
  declare readonly env: Env;
  readonly store: GroupStore;
  private readonly membership: GroupMembership;
  private readonly messages: GroupMessages;
  private readonly imports: GroupImports;
  private readonly receipts: GroupReceipts;
  private readonly adminMessages: GroupAdminMessages;
  private readonly attributes: GroupAttributes;
  private readonly topics: GroupTopics;
  private readonly live: GroupLive;
  private readonly fanout: GroupFanout;
  private readonly directory: GroupDirectorySync;
  readonly callbacks: GroupCallbacks;
  readonly stats: ActorStats;
  /** While the group is being created: its first members are no joins. */
  private creating = false;
  private readonly alarms: AlarmScheduler;
  private readonly apps: AppCache;
  private ref?: GroupRef;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new GroupStore(ctx.storage.sql);
    this.apps = new AppCache(env, () => this.sdkAppId, (id) => groupError(GroupErrorCode.invalidRequest, `SDKAppID ${id} is not an app of this server`));
    this.fanout = new GroupFanout(env, this.sdkAppId, async () => (await this.settings()).fanoutHubs);
    this.directory = new GroupDirectorySync(this, ctx.storage.sql, (at) => this.alarms.armBy(at));
    this.stats = new ActorStats({ env, sdkAppId: this.sdkAppId, source: `group:${ctx.id.name}`, sql: ctx.storage.sql, wakeBy: (at) => this.alarms.armBy(at) });
    // A table of its own: the directory's outbox is drained by its own job.
    this.callbacks = new GroupCallbacks(
      { ctx, sdkAppId: this.sdkAppId, settings: () => this.settings(), wakeBy: (at) => this.alarms.armBy(at), count: (counts) => this.stats.count(counts) },
      "callback_outbox",
    );
    this.membership = new GroupMembership(this);
    this.topics = new GroupTopics(this);
    this.messages = new GroupMessages(this, this.topics);
    this.imports = new GroupImports(this);
    this.receipts = new GroupReceipts(this);
    this.adminMessages = new GroupAdminMessages(this);
    this.attributes = new GroupAttributes(this);
    this.live = new GroupLive(liveHost(this, ctx.storage.sql, () => this.appRecord()));
    this.alarms = new AlarmScheduler(ctx.storage, [
        { name: "directory", run: (now) => this.directory.run(now) },
        { name: "callbacks", run: () => this.callbacks.alarmJob() },
        { name: "stats", run: (now) => this.stats.alarmJob(now) },
      ], (job, error) =>
      console.error(JSON.stringify({ event: "alarm_job_failed", actor: ctx.id.name, job, message: String((error as Error)?.stack ?? error) })),
    );
    // The runtime holds the counting view, so every entry (call or alarm) is counted once.
    return countEntries(this, ["usage"]);
  }

  private get name(): GroupRef {
    this.ref ??= parseGroupActorName(this.ctx.id.name!);
    return this.ref;
  }

  get sdkAppId(): number {
    return this.name.sdkAppId;
  }

  get groupId(): string {
    return this.name.groupId;
  }

  // ---------------------------------------------------------------- lifecycle and profile (group/membership.ts)

  create(caller: GroupCaller, input: CreateGroupInput) {
    return capture(async () => {
      this.creating = true;
      try {
        return await this.membership.create(caller, input);
      } finally {
        this.creating = false;
      }
    });
  }
  info(caller: GroupCaller) {
    return capture(() => this.membership.info(caller));
  }
  modifyProfile(caller: GroupCaller, changes: ProfileChanges) {
    return capture(() => this.membership.modifyProfile(caller, changes));
  }
  destroy(caller: GroupCaller) {
    return capture(async () => {
      const live = this.isLive();
      await this.membership.destroy(caller);
      if (live) this.live.dismissed(caller.userId ?? "");
    });
  }
  changeOwner(caller: GroupCaller, newOwner: string) {
    return capture(() => this.membership.changeOwner(caller, newOwner));
  }

  // ---------------------------------------------------------------- members (group/membership.ts)

  memberPage(caller: GroupCaller, page: { offset: number; limit: number; roles?: string[] }) {
    return capture(() => this.membership.memberPage(caller, page));
  }
  membersOf(caller: GroupCaller, userIds: string[]) {
    return capture(() => this.membership.membersOf(caller, userIds));
  }
  addMembers(caller: GroupCaller, userIds: string[], options: { silence?: boolean } = {}) {
    return capture(() => this.membership.addMembers(caller, userIds, options));
  }
  removeMembers(caller: GroupCaller, userIds: string[], options: { reason?: string; silence?: boolean } = {}) {
    return capture(() => this.membership.removeMembers(caller, userIds, options));
  }
  modifyMember(caller: GroupCaller, userId: string, changes: MemberChanges) {
    return capture(() => this.membership.modifyMember(caller, userId, changes));
  }
  roles(userIds: string[]) {
    return capture(() => this.membership.roles(userIds));
  }
  mute(caller: GroupCaller, userIds: string[], muteTimeSeconds: number) {
    return capture(() => (this.isLive() ? this.live.mute(caller, userIds, muteTimeSeconds) : this.membership.mute(caller, userIds, muteTimeSeconds)));
  }
  mutedMembers(caller: GroupCaller) {
    return capture(() => (this.isLive() ? this.live.mutedMembers(caller) : this.membership.mutedMembers(caller)));
  }
  join(caller: GroupCaller, applyMessage = "") {
    return capture(() => (this.isLive() ? this.live.join(caller) : this.membership.join(caller, applyMessage)));
  }
  quit(caller: GroupCaller) {
    return capture(() => (this.isLive() ? this.live.quit(caller) : this.membership.quit(caller)));
  }
  applications(caller: GroupCaller) {
    return capture(() => this.membership.applications(caller));
  }
  handleApplication(caller: GroupCaller, applicant: string, approve: boolean, message = "") {
    return capture(() => this.membership.handleApplication(caller, applicant, approve, message));
  }

  // ---------------------------------------------------------------- live rooms (group/live.ts; AVChatRoom only)

  /** A send from a viewer's live connection, vouched for by its shard. */
  liveSend(caller: GroupCaller, draft: LiveDraft, path: LiveSendPath) {
    return this.inLive(async () => {
      checkDirtyWords((await this.settings()).dirtyWords, draft.body);
      return this.live.send(caller, draft, path);
    });
  }
  ban(caller: GroupCaller, userIds: string[], durationSeconds: number, description = "") {
    return this.inLive(() => this.live.ban(caller, userIds, durationSeconds, description));
  }
  unban(caller: GroupCaller, userIds: string[]) {
    return this.inLive(() => this.live.unban(caller, userIds));
  }
  bannedPage(caller: GroupCaller, offset: number, limit: number) {
    return this.inLive(() => this.live.bannedPage(caller, offset, limit));
  }
  modifyLiveAdmins(caller: GroupCaller, set: boolean, userIds: string[]) {
    return this.inLive(() => this.live.modifyAdmins(caller, set, userIds));
  }
  liveAdmins() {
    return this.inLive(() => this.live.adminIds());
  }
  onlineCount() {
    return this.inLive(() => this.live.onlineCount());
  }
  liveMembers(before: number) {
    return this.inLive(() => this.live.members(before));
  }
  checkLiveMembers(userIds: string[]) {
    return this.inLive(() => this.live.checkMembers(userIds));
  }
  liveShardReport(shard: number, sockets: number, changes?: AudienceChanges, dropped?: Partial<Record<MsgPriority, number>>) {
    return capture(() => this.live.shardReport(shard, sockets, changes, dropped));
  }
  /** The room's shards with their viewers and drops, and the room's own drops (edgeim_admin_svc/get_live_room). */
  liveRoomInfo() {
    return this.inLive(() => this.live.roomInfo());
  }
  /** A block of places for a crowded room's joins (a joiner's actor asks at most about once a second). */
  liveSeats(bansVersion: string, unused?: { shard: number; seats: number }) {
    return this.inLive(() => this.live.seats(bansVersion, unused));
  }
  liveShardOpened(shard: number) {
    return this.inLive(() => this.live.shardOpened(shard));
  }
  /** Resolves once everything relayed so far has reached the shards (tests and benchmarks). */
  liveRelayed() {
    return capture(() => this.live.relayed());
  }
  liveDropped() {
    return capture(() => this.live.roomInfo().rateDropped);
  }

  private isLive(): boolean {
    return this.store.profile()?.type === "AVChatRoom";
  }

  /** 10010 for no such group, 10007 for a group that is not a live room. */
  private inLive<T>(work: () => Promise<T> | T) {
    return capture(() => {
      if (this.profile().type !== "AVChatRoom") throw groupError(GroupErrorCode.noPermission, `group "${this.groupId}" is not a live room (AVChatRoom)`);
      return work();
    });
  }

  // ---------------------------------------------------------------- messages (group/messages.ts)

  sendMessage(caller: GroupCaller, draft: GroupMessageDraft) {
    return capture(async () => {
      // The app's words come with its cached settings: no call per message.
      checkDirtyWords((await this.settings()).dirtyWords, draft.body);
      return this.isLive() ? this.live.send(caller, draft, "elsewhere") : this.messages.send(caller, draft);
    });
  }
  history(caller: GroupCaller, page: { upTo?: number; count: number; withRecalled?: boolean; topicId?: string }) {
    return capture(() => this.messages.history(caller, page.upTo, page.count, page.withRecalled ?? false, page.topicId));
  }
  messagesAfter(caller: GroupCaller, after: number, limit = 100, topicId?: string) {
    return capture(() => this.messages.after(caller, after, limit, topicId));
  }
  recall(caller: GroupCaller, seqs: number[], topicId?: string) {
    return capture(() => this.messages.recall(caller, seqs, topicId));
  }
  modifyMessage(caller: GroupCaller, seq: number, body: MsgBody, cloudCustomData?: string, topicId?: string) {
    return capture(() => this.messages.modify(caller, seq, body, cloudCustomData, topicId));
  }
  markRead(caller: GroupCaller, seq: number) {
    return capture(() => this.messages.markRead(caller, seq));
  }

  /** Since this actor woke: its entries, SQLite rows written and calls made to fan-out hubs (the per-message cost). */
  async usage(): Promise<EntryCounts & { rowsWritten: number; hubCalls: number }> {
    return { ...entryCounts(this), rowsWritten: this.store.usage.rowsWritten + this.stats.counters.usage.rowsWritten, ...this.fanout.usage };
  }

  override async alarm(): Promise<void> {
    await this.alarms.run();
  }

  // ---------------------------------------------------------------- GroupHost: what the parts share

  transaction<T>(work: () => T): T {
    return this.ctx.storage.transactionSync(work);
  }

  profile(): GroupProfile {
    const profile = this.store.profile();
    if (!profile) throw groupError(GroupErrorCode.groupNotFound, `group "${this.groupId}" does not exist or was dismissed`);
    return profile;
  }

  async settings(): Promise<AppSettings> {
    // The record's, not the view's: the group's callbacks sign with the token the view leaves out.
    return (await this.appRecord()).settings;
  }

  async policy(): Promise<GroupPolicy> {
    return (await this.settings()).groups;
  }

  actorOf(caller: GroupCaller): { actor: Actor; member: StoredMember | null } {
    const member = caller.userId ? this.store.member(caller.userId) : null;
    return { actor: actorOf(member?.role, caller.appAdmin), member };
  }

  publish(event: GroupEvent, userIds: string[]): void {
    // A live room's audience is on its shards, not among its members.
    if (relayedToAudience.has(event.kind) && this.isLive()) this.live.relayEvent(event);
    // Every message the group accepts is published once, right after it is stored.
    if (event.kind === "groupMessage") {
      this.stats.count({ GroupUpMsgNum: 1, GroupDownMsgNum: userIds.filter((u) => u !== event.message.from).length }, [
        { marker: "sent", counts: { GroupSendMsgGroupNum: 1 } },
      ]);
    }
    if (userIds.length === 0) return;
    void this.fanout.hubs().then(
      (hubs) => this.fanout.publish(event, userIds, hubs),
      (error: unknown) => console.error(JSON.stringify({ event: "fanout_failed", group: this.groupId, message: String(error) })),
    );
  }

  directoryChanged(change: DirectoryChange): void {
    this.directory.changed(change);
    this.countMembership(change);
  }

  /** Membership statistics, written in the change's own transaction (the directory's hook sees every change). */
  private countMembership(change: DirectoryChange): void {
    if (change.kind === "joined" && this.creating) this.stats.count({ GroupNewGroupNum: 1, GroupAllGroupNum: 1 });
    else if (change.kind === "joined") this.stats.count({ GroupJoinGroupTimes: change.userIds.length });
    else if (change.kind === "left") this.stats.count({ GroupQuitGroupTimes: change.userIds.length });
    else if (change.kind === "destroyed") this.stats.count({ GroupDestroyGroupNum: 1, GroupAllGroupNum: -1 });
  }

  senderRead(userId: string, seq: number, readCount: number): void {
    void userActor(this.env, { sdkAppId: this.sdkAppId, userId })
      .groupRead(this.groupId, seq, readCount)
      .catch((error: unknown) => console.error(JSON.stringify({ event: "sender_read_failed", group: this.groupId, message: String(error) })));
  }

  async setMemberRead(userId: string, seq: number, readCount: number): Promise<void> {
    const outcome = await userActor(this.env, { sdkAppId: this.sdkAppId, userId }).setGroupReadPoint(this.groupId, seq, readCount);
    if (!outcome.ok) throw groupError(outcome.code, outcome.info);
  }

  mentioned(userIds: string[], seq: number): void {
    for (const userId of userIds) {
      void userActor(this.env, { sdkAppId: this.sdkAppId, userId })
        .groupMentioned(this.groupId, seq)
        .catch((error: unknown) => console.error(JSON.stringify({ event: "mention_failed", group: this.groupId, message: String(error) })));
    }
  }

  flushDirectory(): Promise<void> {
    return this.directory.flush();
  }

  /** Whether `userId` is one of the app's admins. */
  async isAppAdmin(userId: string): Promise<boolean> {
    return isAppAdmin(await this.appRecord(), userId);
  }

  private appRecord(): Promise<App> {
    return this.apps.record();
  }


  // ---------------------------------------------------------------- imports, receipts, administration (group/imports.ts, receipts.ts, adminMessages.ts)

  importMembers(caller: GroupCaller, members: ImportedMember[]) {
    return capture(() => this.imports.members(caller, members));
  }
  importMessages(caller: GroupCaller, messages: ImportedMessage[]) {
    return capture(() => this.imports.messages(caller, messages));
  }
  acknowledgeReceipts(caller: GroupCaller, userId: string, seqs: number[]) {
    return capture(() => this.receipts.acknowledge(caller, userId, seqs));
  }
  receiptCounts(caller: GroupCaller, seqs: number[]) {
    return capture(() => this.receipts.counts(caller, seqs));
  }
  receiptDetail(caller: GroupCaller, seq: number, page: { read: boolean; cursor: string; count: number }) {
    return capture(() => this.receipts.detail(caller, seq, page.read, page.cursor, page.count));
  }
  setUnread(caller: GroupCaller, userId: string, unread: number) {
    return capture(() => this.receipts.setUnread(caller, userId, unread));
  }
  systemNotice(caller: GroupCaller, content: string, userIds?: string[]) {
    return capture(() => this.adminMessages.notify(caller, content, userIds));
  }
  deleteMessagesBySender(caller: GroupCaller, sender: string) {
    return capture(() => this.adminMessages.deleteBySender(caller, sender));
  }
  clearMessages(caller: GroupCaller, upTo?: number) {
    return capture(() => this.adminMessages.clear(caller, upTo));
  }
  messageKeys(seqs: number[], topicId?: string) {
    return capture(() => this.adminMessages.keys(seqs, topicId));
  }

  // ---------------------------------------------------------------- attributes, counters, topics (group/attributes.ts, group/topics.ts)


  readAttributes(caller: GroupCaller, keys?: string[]) {
    return capture(() => this.attributes.read(caller, keys));
  }
  writeAttributes(caller: GroupCaller, change: AttributeWrite, expectedVersion?: number) {
    return capture(() => this.attributes.write(caller, change, expectedVersion));
  }
  counters(caller: GroupCaller, keys?: string[]) {
    return capture(() => this.attributes.counters(caller, keys));
  }
  updateCounters(caller: GroupCaller, mode: CounterMode, changes: CounterChange[]) {
    return capture(() => this.attributes.updateCounters(caller, mode, changes));
  }
  deleteCounters(caller: GroupCaller, keys?: string[]) {
    return capture(() => this.attributes.deleteCounters(caller, keys));
  }
  createTopic(caller: GroupCaller, input: CreateTopicInput) {
    return capture(() => this.topics.create(caller, input));
  }
  readTopics(caller: GroupCaller, topicIds?: string[]) {
    return capture(() => this.topics.read(caller, topicIds));
  }
  modifyTopic(caller: GroupCaller, topicId: string, changes: TopicChanges) {
    return capture(() => this.topics.modify(caller, topicId, changes));
  }
  destroyTopics(caller: GroupCaller, topicIds: string[]) {
    return capture(() => this.topics.destroy(caller, topicIds));
  }
  /** The live topic of this community (11000 without topics, 10010 for no such topic). */
  topicOf(topicId: string) {
    return capture(() => this.topics.topicOf(topicId));
  }
}
