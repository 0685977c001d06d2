/**
 * Keeps the D1 directory (`store/groups.ts`) following the group's actor,
 * which is the authority. Membership changes and dismissal are rows of the
 * group's own outbox, written in the same transaction as the change and
 * delivered in order after it (at least once; the statements are idempotent).
 * The group's own row (name, owner, member count, last MsgSeq) is written from
 * the actor's state at most once a second by the alarm, so a busy group costs
 * one D1 write a second, not one per message.
 *
 * A crash after the change commits leaves the outbox rows and the alarm: the
 * directory catches up when the alarm runs. Until then `get_joined_group_list`
 * and unread counts may lag by the directory's delay, never by more.
 */
import { drainOutbox, defaultDrainPolicy, type OutboxRow } from "../../mechanisms/outbox.ts";
import { SqliteOutbox } from "../../mechanisms/sqliteOutbox.ts";
import { GroupDirectory } from "../../store/groups.ts";
import type { DirectoryChange, GroupHost } from "./host.ts";

/** The group's own row is rewritten at most this often while messages flow. */
const rowEveryMs = 1_000;
const target = "directory";

export class GroupDirectorySync {
  private readonly host: GroupHost;
  private readonly outbox: SqliteOutbox;
  private readonly wakeBy: (at: number) => Promise<void>;
  private rowDue = false;
  private flushing: Promise<void> | null = null;

  constructor(host: GroupHost, sql: SqlStorage, wakeBy: (at: number) => Promise<void>) {
    this.host = host;
    this.outbox = new SqliteOutbox(sql);
    this.wakeBy = wakeBy;
  }

  /** Call inside the change's transaction for membership and dismissal; any time for the group's row. */
  changed(change: DirectoryChange): void {
    if (change.kind !== "group") this.outbox.add(target, change.kind, change);
    if (!this.rowDue) {
      this.rowDue = true;
      // The backstop: if nothing flushes sooner, the alarm does.
      void this.wakeBy(Date.now() + rowEveryMs);
    }
  }

  /**
   * Brings the directory up to date now (membership actions await it before answering, so a
   * group is listed as soon as its creation is answered). A failure is logged; the alarm retries.
   */
  async flush(): Promise<void> {
    this.flushing ??= this.run(Date.now())
      .then(() => undefined)
      .catch((error: unknown) => console.error(JSON.stringify({ event: "directory_sync_failed", group: this.host.groupId, message: String(error) })))
      .finally(() => (this.flushing = null));
    return this.flushing;
  }

  /** Alarm job: the pending membership rows, then the group's row as it is now. */
  async run(now: number): Promise<number | null> {
    const directory = new GroupDirectory(this.host.env.DB, this.host.sdkAppId);
    await drainOutbox(
      { store: this.outbox, now: Date.now, deliver: (row: OutboxRow) => apply(directory, this.host.groupId, row.payload as DirectoryChange) },
      { ...defaultDrainPolicy, concurrency: 1 },
    );
    this.rowDue = false;
    const profile = this.host.store.profile();
    if (profile) {
      await directory.upsert({
        groupId: this.host.groupId,
        type: profile.type,
        name: profile.name,
        ...(profile.ownerAccount ? { owner: profile.ownerAccount } : {}),
        memberCount: this.host.store.memberCount(),
        createdAt: profile.createTime,
        lastSeq: this.host.store.nextSeq() - 1,
        lastMsgTime: this.host.store.lastMessageTime(),
        lastMessage: this.host.store.lastPublicMessage(this.host.groupId),
        unreadTotal: this.host.store.unreadTotal(),
        version: now,
      });
    }
    return this.outbox.nextDue();
  }
}

async function apply(directory: GroupDirectory, groupId: string, change: DirectoryChange): Promise<void> {
  switch (change.kind) {
    case "joined":
      return directory.addMembers(groupId, change.userIds, change.joinedAt, change.joinSeq, change.joinCount ?? 0);
    case "left":
      return directory.removeMembers(groupId, change.userIds);
    case "msgFlag":
      return directory.setMsgFlag(groupId, change.userId, change.msgFlag);
    case "destroyed":
      return directory.remove(groupId);
    case "group":
      return;
  }
}
