/**
 * The device's group connection (/v1/groups), beside its own: only group
 * events arrive on it. Group messages are not in the user's sync sequence but
 * in each group's MsgSeq, so this keeps the last MsgSeq applied per group and,
 * after a reconnect or when a live message skips ahead, fetches what is
 * missing with `syncGroupMessages`: each message is handed on once, in order.
 */
import type { GroupEvent, GroupMessage } from "../domain/groupMessage.ts";
import { Connection } from "./connection.ts";

export interface GroupStreamHost {
  call<T>(op: string, data?: unknown): Promise<T>;
  /** The user's groups with the newest MsgSeq the server lists for each. */
  groupList(): Promise<{ groupId: string; lastSeq: number }[]>;
  /** A group message, live or caught up: once, in MsgSeq order within its group. */
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
/** Groups caught up at once, well inside the connection's frame rate. */
const catchUpConcurrency = 4;
/** Codes meaning the user is no longer in the group: nothing to catch up there. */
const notInGroup = new Set([10007, 10010]);

export class GroupStream {
  private readonly host: GroupStreamHost;
  private connection?: Connection;
  private last = new Map<string, number>();
  private syncing = new Map<string, Promise<void>>();
  /** Live messages that arrived while their group was catching up. */
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
    clearTimeout(this.recheck);
    this.syncing.clear();
    this.held.clear();
  }

  /** The last MsgSeq applied in a group (0 when none). */
  lastSeq(groupId: string): number {
    return this.last.get(groupId) ?? 0;
  }

  /** Counts a message this device sent, whose answer may come before or after its echo. */
  sent(groupId: string, seq: number): void {
    if (seq === this.lastSeq(groupId) + 1) this.advance(groupId, seq);
  }

  private async loggedIn(isReconnect: boolean): Promise<void> {
    // A first login without a saved position starts from now: earlier messages are history, not news.
    await this.catchUpAll(!isReconnect && !this.resumed);
    if (isReconnect || this.resumed) {
      clearTimeout(this.recheck);
      this.recheck = setTimeout(() => void this.catchUpAll(false).catch((error: unknown) => this.host.error(error)), recheckMs);
    }
  }

  private async catchUpAll(fromNow: boolean): Promise<void> {
    const behind: string[] = [];
    for (const { groupId, lastSeq } of await this.host.groupList()) {
      const last = this.last.get(groupId);
      if (last === undefined || fromNow) this.last.set(groupId, Math.max(last ?? 0, lastSeq));
      else if (lastSeq > last) behind.push(groupId);
    }
    this.host.save(Object.fromEntries(this.last));
    const next = async (): Promise<void> => {
      const groupId = behind.shift();
      if (groupId === undefined) return;
      await this.catchUp(groupId).catch((error: unknown) => this.host.error(error));
      return next();
    };
    await Promise.all(Array.from({ length: catchUpConcurrency }, next));
  }

  private onEvent(event: GroupEvent): void {
    if (event.kind !== "groupMessage") return this.host.event(event);
    const m = event.message;
    // Messages not stored (online only) have no MsgSeq: nothing to order or catch up.
    if (m.seq === 0) return this.host.message(m);
    const last = this.last.get(m.groupId);
    if (last !== undefined && m.seq <= last) return;
    if (this.syncing.has(m.groupId)) {
      this.held.get(m.groupId)?.push(m);
      return;
    }
    // A group not known yet (just joined or created) starts at its first live message.
    if (last === undefined || m.seq === last + 1) {
      this.advance(m.groupId, m.seq);
      return this.host.message(m);
    }
    this.held.set(m.groupId, [m]);
    this.catchUp(m.groupId).catch((error: unknown) => this.host.error(error));
  }

  /** Fetches a group's messages after the last applied, until complete, then the live ones held meanwhile. */
  private catchUp(groupId: string): Promise<void> {
    let run = this.syncing.get(groupId);
    if (run) return run;
    if (!this.held.has(groupId)) this.held.set(groupId, []);
    run = (async () => {
      try {
        for (;;) {
          const after = this.lastSeq(groupId);
          const page = await this.host.call<{ messages: GroupMessage[]; complete: boolean; through: number }>("syncGroupMessages", { groupID: groupId, after, limit: syncPage });
          for (const m of page.messages) this.apply(m);
          // Messages for other members only are not in the page: it covers everything up to `through`.
          this.advance(groupId, Math.max(this.lastSeq(groupId), page.through));
          if (page.complete ? this.applyHeld(groupId) : this.lastSeq(groupId) === after) break;
        }
      } catch (error) {
        if (!notInGroup.has((error as { code?: number }).code ?? 0)) throw error;
      } finally {
        this.syncing.delete(groupId);
        this.held.delete(groupId);
      }
    })();
    this.syncing.set(groupId, run);
    return run;
  }

  /** Applies held live messages that follow on; false when one is missing in between (another page). */
  private applyHeld(groupId: string): boolean {
    const held = (this.held.get(groupId) ?? []).sort((a, b) => a.seq - b.seq);
    this.held.set(groupId, []);
    for (const m of held) {
      if (m.seq <= this.lastSeq(groupId)) continue;
      if (m.seq !== this.lastSeq(groupId) + 1) return false;
      this.apply(m);
    }
    return true;
  }

  private apply(m: GroupMessage): void {
    if (m.seq <= this.lastSeq(m.groupId)) return;
    this.advance(m.groupId, m.seq);
    this.host.message(m);
  }

  private advance(groupId: string, seq: number): void {
    this.last.set(groupId, seq);
    this.host.save(Object.fromEntries(this.last));
  }
}
