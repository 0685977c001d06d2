/** What every profile and relationship action needs: the app, its stores, and a way to tell users' devices and the app's backend. */
import { appCallbackSettings, armBackstop, countIn, callbackTarget, drainAfterAnswer, userTarget, type CallbackRow, type RelationsChanged } from "../actors/appOutbox.ts";
import { askPerItem } from "../callbacks/send.ts";
import { isAppAdmin, type AppView } from "../domain/app.ts";
import { callbackEnabled, type OptPlatform } from "../domain/callbacks.ts";
import type { ItemRefusal } from "../domain/snsCallbacks.ts";
import type { Env } from "../env.ts";
import { existingAccounts } from "../store/accounts.ts";
import { D1Outbox } from "../store/outbox.ts";
import { RelationStore } from "../store/relations.ts";

export type SnsEvent = "profileUpdated" | "friendListUpdated" | "friendApplicationListUpdated" | "blacklistUpdated";

/** Who asked for the action, as callbacks name it. */
export interface SnsOrigin {
  /** The admin that signed a REST call, or the connected user. */
  operator: string;
  /** RESTAPI, or the connected device's platform. */
  platform: OptPlatform;
  /** The caller's IP address, when known (callbacks' ClientIP). */
  clientIp?: string;
}

export class SnsContext {
  readonly env: Env;
  readonly app: AppView;
  readonly origin: SnsOrigin;
  readonly relations: RelationStore;
  private readonly outbox: D1Outbox;
  private readonly waitUntil: (p: Promise<unknown>) => void;
  private readonly pending = new Map<string, RelationsChanged>();
  private readonly pendingStatements: D1PreparedStatement[] = [];

  constructor(env: Env, app: AppView, waitUntil: (p: Promise<unknown>) => void, origin: SnsOrigin) {
    this.env = env;
    this.app = app;
    this.origin = origin;
    this.relations = new RelationStore(env.DB, app.sdkAppId);
    this.outbox = new D1Outbox(env.DB, app.sdkAppId);
    this.waitUntil = waitUntil;
  }

  get sdkAppId(): number {
    return this.app.sdkAppId;
  }

  /** Whether a user's client (SDK, WebSocket) asked for the action, rather than an admin over REST. */
  get fromClient(): boolean {
    return this.origin.platform !== "RESTAPI";
  }

  /** The admin acting over REST, for the fields that name one (empty for a client). */
  get admin(): string | undefined {
    return this.fromClient ? undefined : this.origin.operator;
  }

  /** Which of `ids` are users of the app: imported accounts, and the app's admins. */
  async accounts(ids: string[]): Promise<Set<string>> {
    const found = await existingAccounts(this.env.DB, this.sdkAppId, ids);
    for (const id of ids) if (isAppAdmin(this.app, id)) found.add(id);
    return found;
  }

  /** Whether the app's backend hears of `command`: a property check when callbacks are off. */
  callbackOn(command: string): boolean {
    return callbackEnabled(this.app.settings.callbacks, command);
  }

  /**
   * Asks a before-callback that answers per item (PrevFriendAdd, PrevFriendResponse) about `asked`:
   * the refused ones, by id. Nothing is asked, and nothing refused, when the command is off.
   */
  async askPerItem(command: string, fields: Record<string, unknown>, asked: string[]): Promise<Map<string, ItemRefusal>> {
    if (asked.length === 0 || !this.callbackOn(command)) return new Map();
    const settings = await appCallbackSettings(this.env, this.sdkAppId);
    if (!callbackEnabled(settings, command)) return new Map();
    return askPerItem(
      { sdkAppId: this.sdkAppId, settings, command, fields, eventTime: Date.now(), platform: this.origin.platform, clientIp: this.origin.clientIp, count: countIn(this.env, this.sdkAppId) },
      asked,
    );
  }

  /**
   * Queues an after-callback of a change `actor` made; `commit` writes it with the change, so
   * an answered change's callback is never lost. One acting user's callbacks go in order.
   */
  callbackAfter(command: string, actor: string, fields: Record<string, unknown>): void {
    if (!this.callbackOn(command)) return;
    const row: CallbackRow = { command, eventTime: Date.now(), platform: this.origin.platform, ...(this.origin.clientIp ? { clientIp: this.origin.clientIp } : {}), fields };
    this.pendingStatements.push(this.outbox.addStatement(callbackTarget(actor), "callback", row));
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
   * Writes the action's statements, the events queued for users' devices and the after-callbacks
   * in one batch, so either all commit or none does. They are delivered after the answer, and a
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
