/**
 * The device's group connection (/v1/groups), beside its own: only group
 * events arrive on it. Group messages are not in the user's sync sequence but
 * in each group's MsgSeq, so this keeps the last MsgSeq applied per group and,
 * after a reconnect or when a live message skips ahead, fetches what is
 * missing with `syncGroupMessages`: each message is handed on once, in order.
 * A Community topic is a stream of its own (its MsgSeq counts from 1), kept
 * the same way once the device knows it: from a topic list, a topic event or
 * one of its messages.
 */
import type { GroupEvent, GroupMessage } from "../domain/groupMessage.ts";
import { Connection } from "./connection.ts";
import { communityOf, sentTo } from "./model.ts";

export interface GroupStreamHost {
  call<T>(op: string, data?: unknown): Promise<T>;
  /** The user's groups with the newest MsgSeq the server lists for each. */
  groupList(): Promise<{ groupId: string; lastSeq: number }[]>;
  /** A group message, live or caught up: once, in MsgSeq order within its group or topic. */
  message(message: GroupMessage): void;
  /** Any other group event: recall, edit, tip, system notice, group list changed. */
  event(event: Exclude<GroupEvent, { kind: "groupMessage" }>): void;
  error(error: unknown): void;
  /** Where the last MsgSeq per group is kept across page loads, if anywhere. */
  saved(): Record<string, number> | null;
  save(lastSeqs: Record<string, number>): void;
}

/** The directory's last MsgSeq trails a busy group by up to a second: look again after a reconnect. */
const recheckMs = 2_500;
const syncPage = 100;
/** Tries of a catch-up before its failure is reported (waits of 0.5, then 1 s between). */
const catchUpAttempts = 3;
/** Groups caught up at once, well inside the connection's frame rate. */
const catchUpConcurrency = 4;
/** Codes meaning the user is no longer in the group (or the topic is gone): nothing to catch up there. */
const notInGroup = new Set([10007, 10010]);
const topicGone = 10010;

export class GroupStream {
  private readonly host: GroupStreamHost;
  private connection?: Connection;
  /** The last MsgSeq applied, by group id, and by topic id for the topics known. */
  private last = new Map<string, number>();
  private syncing = new Map<string, Promise<void>>();
  /** Live messages that arrived while their group or topic was catching up. */
  private held = new Map<string, GroupMessage[]>();
  private recheck?: ReturnType<typeof setTimeout>;
  private resumed = false;

  constructor(host: GroupStreamHost) {
    this.host = host;
  }

  /** Opens the group connection; resolves after its first login and catch-up. */
  start(url: string, userSig: string): Promise<void> {
    const saved = this.host.saved();
    this.resumed = saved !== null;
    this.last = new Map(Object.entries(saved ?? {}));
    this.connection = new Connection({
      url,
      userSig,
      onLogin: (_data, isReconnect) => this.loggedIn(isReconnect),
      onEvent: (frame) => this.onEvent(frame.data as GroupEvent),
      // Hidden from the app: the user's own connection reports the network and the end of the session.
      onNetState: () => undefined,
      onEnd: () => undefined,
    });
    return this.connection.start();
  }

  stop(): void {
    this.connection?.stop();
    this.connection = undefined;
    if (this.recheck) clearTimeout(this.recheck);
    this.syncing.clear();
    this.held.clear();
  }

  /** The last MsgSeq applied in a group or topic (0 when none). */
  lastSeq(id: string): number {
    return this.last.get(id) ?? 0;
  }

  /** Counts a message this device sent to a group or topic, whose answer may come before or after its echo. */
  sent(id: string, seq: number): void {
    if (seq === this.lastSeq(id) + 1) this.advance(id, seq);
  }

  /** Topics the app listed: those not known yet are followed from now, their earlier messages being history. */
  knowTopics(topics: { topicID: string; nextMessageSeq: number }[]): void {
    let added = false;
    for (const t of topics) {
      if (this.last.has(t.topicID)) continue;
      this.last.set(t.topicID, t.nextMessageSeq - 1);
      added = true;
    }
    if (added) this.host.save(Object.fromEntries(this.last));
  }

  private async loggedIn(isReconnect: boolean): Promise<void> {
    // A first login without a saved position starts from now: earlier messages are history, not news.
    await this.withRetries(() => this.catchUpAll(!isReconnect && !this.resumed));
    if (isReconnect || this.resumed) {
      if (this.recheck) clearTimeout(this.recheck);
      this.recheck = setTimeout(() => void this.catchUpAll(false).catch((error: unknown) => this.host.error(error)), recheckMs);
    }
  }

  /** A catch-up that fails (a server busy for a moment) is tried again before it is reported. */
  private async withRetries(work: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (attempt >= catchUpAttempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
      }
    }
  }

  private async catchUpAll(fromNow: boolean): Promise<void> {
    const behind: string[] = [];
    const groups = await this.host.groupList();
    for (const { groupId, lastSeq } of groups) {
      const last = this.last.get(groupId);
      if (last === undefined || fromNow) this.last.set(groupId, Math.max(last ?? 0, lastSeq));
      else if (lastSeq > last) behind.push(groupId);
    }
    behind.push(...(await this.topicsBehind(new Set(groups.map((g) => g.groupId)))));
    this.host.save(Object.fromEntries(this.last));
    const next = async (): Promise<void> => {
      const id = behind.shift();
      if (id === undefined) return;
      await this.catchUp(id).catch((error: unknown) => this.host.error(error));
      return next();
    };
    await Promise.all(Array.from({ length: catchUpConcurrency }, next));
  }

  /**
   * The known topics with messages after the last applied, by their communities'
   * topic lists (one request per community the user is in); topics the list no
   * longer has are forgotten.
   */
  private async topicsBehind(groups: Set<string>): Promise<string[]> {
    const known = new Map<string, string[]>();
    for (const id of this.last.keys()) {
      const groupId = communityOf(id);
      if (groupId !== undefined && groups.has(groupId)) known.set(groupId, [...(known.get(groupId) ?? []), id]);
    }
    const behind: string[] = [];
    for (const [groupID, topicIDList] of known) {
      try {
        const { successTopicList } = await this.host.call<{ successTopicList: { topicID: string; nextMessageSeq: number }[] }>("getTopicList", { groupID, topicIDList });
        const newest = new Map(successTopicList.map((t) => [t.topicID, t.nextMessageSeq - 1]));
        for (const id of topicIDList) {
          const seq = newest.get(id);
          if (seq === undefined) this.last.delete(id);
          else if (seq > this.lastSeq(id)) behind.push(id);
        }
      } catch (error) {
        if (!notInGroup.has((error as { code?: number }).code ?? 0)) this.host.error(error);
      }
    }
    return behind;
  }

  private onEvent(event: GroupEvent): void {
    if (event.kind !== "groupMessage") {
      this.followTopics(event);
      return this.host.event(event);
    }
    const m = event.message;
    // Messages not stored (online only) have no MsgSeq: nothing to order or catch up.
    if (m.seq === 0) return this.host.message(m);
    const id = sentTo(m);
    const last = this.last.get(id);
    if (last !== undefined && m.seq <= last) return;
    if (this.syncing.has(id)) {
      this.held.get(id)?.push(m);
      return;
    }
    // A group or topic not known yet (just joined or created) starts at its first live message.
    if (last === undefined || m.seq === last + 1) {
      this.advance(id, m.seq);
      return this.host.message(m);
    }
    this.held.set(id, [m]);
    this.catchUp(id).catch((error: unknown) => this.host.error(error));
  }

  /** A topic created or changed is followed from its next message; one deleted is forgotten. */
  private followTopics(event: Exclude<GroupEvent, { kind: "groupMessage" }>): void {
    if (event.kind === "topicCreated" || event.kind === "topicUpdated") this.knowTopics([{ topicID: event.topic.topicId, nextMessageSeq: event.topic.nextMsgSeq }]);
    else if (event.kind === "topicDeleted") {
      for (const id of event.topicIds) this.last.delete(id);
      this.host.save(Object.fromEntries(this.last));
    }
  }

  /** Fetches a group's (or topic's) messages after the last applied, until complete, then the live ones held meanwhile. */
  private catchUp(id: string): Promise<void> {
    let run = this.syncing.get(id);
    if (run) return run;
    if (!this.held.has(id)) this.held.set(id, []);
    const groupID = communityOf(id);
    const stream = groupID === undefined ? { groupID: id } : { groupID, topicID: id };
    run = (async () => {
      try {
        for (;;) {
          const after = this.lastSeq(id);
          const page = await this.host.call<{ messages: GroupMessage[]; complete: boolean; through: number }>("syncGroupMessages", { ...stream, after, limit: syncPage });
          for (const m of page.messages) this.apply(m);
          // Messages for other members only are not in the page: it covers everything up to `through`.
          this.advance(id, Math.max(this.lastSeq(id), page.through));
          if (page.complete ? this.applyHeld(id) : this.lastSeq(id) === after) break;
        }
      } catch (error) {
        const code = (error as { code?: number }).code ?? 0;
        if (!notInGroup.has(code)) throw error;
        if (stream.topicID && code === topicGone) this.last.delete(id);
      } finally {
        this.syncing.delete(id);
        this.held.delete(id);
      }
    })();
    this.syncing.set(id, run);
    return run;
  }

  /** Applies held live messages that follow on; false when one is missing in between (another page). */
  private applyHeld(id: string): boolean {
    const held = (this.held.get(id) ?? []).sort((a, b) => a.seq - b.seq);
    this.held.set(id, []);
    for (const m of held) {
      if (m.seq <= this.lastSeq(id)) continue;
      if (m.seq !== this.lastSeq(id) + 1) return false;
      this.apply(m);
    }
    return true;
  }

  private apply(m: GroupMessage): void {
    const id = sentTo(m);
    if (m.seq <= this.lastSeq(id)) return;
    this.advance(id, m.seq);
    this.host.message(m);
  }

  private advance(id: string, seq: number): void {
    this.last.set(id, seq);
    this.host.save(Object.fromEntries(this.last));
  }
}
