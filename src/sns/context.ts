/** What every profile and relationship action needs: the app, its stores, and a way to tell users' devices. */
import { armBackstop, drainAfterAnswer, userTarget, type RelationsChanged } from "../actors/appOutbox.ts";
import { isAppAdmin, type AppView } from "../domain/app.ts";
import type { Env } from "../env.ts";
import { existingAccounts } from "../store/accounts.ts";
import { D1Outbox } from "../store/outbox.ts";
import { RelationStore } from "../store/relations.ts";

export type SnsEvent = "profileUpdated" | "friendListUpdated" | "friendApplicationListUpdated" | "blacklistUpdated";

export class SnsContext {
  readonly env: Env;
  readonly app: AppView;
  readonly relations: RelationStore;
  private readonly outbox: D1Outbox;
  private readonly waitUntil: (p: Promise<unknown>) => void;
  private readonly pending = new Map<string, RelationsChanged>();
  private readonly pendingStatements: D1PreparedStatement[] = [];

  constructor(env: Env, app: AppView, waitUntil: (p: Promise<unknown>) => void) {
    this.env = env;
    this.app = app;
    this.relations = new RelationStore(env.DB, app.sdkAppId);
    this.outbox = new D1Outbox(env.DB, app.sdkAppId);
    this.waitUntil = waitUntil;
  }

  get sdkAppId(): number {
    return this.app.sdkAppId;
  }

  /** Which of `ids` are users of the app: imported accounts, and the app's admins. */
  async accounts(ids: string[]): Promise<Set<string>> {
    const found = await existingAccounts(this.env.DB, this.sdkAppId, ids);
    for (const id of ids) if (isAppAdmin(this.app, id)) found.add(id);
    return found;
  }

  /** Queues an event for a user's devices; `commit` writes each user's events once, with the change. */
  tell(userId: string, event: SnsEvent, data: Record<string, unknown> = {}): void {
    const entry = this.pending.get(userId) ?? { events: [], data: {} };
    if (!entry.events.includes(event)) entry.events.push(event);
    Object.assign(entry.data, data);
    this.pending.set(userId, entry);
  }

  /** Queues an event for everyone who has `userId` in their friend list, however many (one statement). */
  tellListersOf(userId: string, event: SnsEvent, data: Record<string, unknown> = {}): void {
    const notice: RelationsChanged = { events: [event], data };
    this.pendingStatements.push(this.outbox.addEachStatement(this.relations.listingTargets(userId, userTarget("")), "relationsChanged", notice));
  }

  /**
   * Writes the action's statements and the events queued for users' devices in one batch, so
   * either both commit or neither does. The events are delivered after the answer, and a
   * failed delivery never turns a committed change into an error.
   */
  async commit(statements: D1PreparedStatement[]): Promise<void> {
    const notices = [...this.pending].map(([userId, notice]) => this.outbox.addStatement(userTarget(userId), "relationsChanged", notice));
    notices.push(...this.pendingStatements.splice(0));
    this.pending.clear();
    if (notices.length === 0) return this.relations.batch(statements);
    await Promise.all([this.relations.batch(statements, notices), armBackstop(this.env, this.sdkAppId)]);
    this.waitUntil(drainAfterAnswer(this.env, this.sdkAppId));
  }
}
