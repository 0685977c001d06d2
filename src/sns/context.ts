/** What every profile and relationship action needs: the app and a way to tell users' devices. */
import { userActor } from "../actors/UserActor.ts";
import { isAppAdmin, type AppView } from "../domain/app.ts";
import type { Env } from "../env.ts";
import { existingAccounts } from "../store/accounts.ts";
import { RelationStore } from "../store/relations.ts";

export type SnsEvent = "profileUpdated" | "friendListUpdated" | "friendApplicationListUpdated" | "blacklistUpdated";

export class SnsContext {
  readonly env: Env;
  readonly app: AppView;
  readonly relations: RelationStore;
  private readonly waitUntil: (p: Promise<unknown>) => void;
  private readonly pending = new Map<string, { events: Set<SnsEvent>; data: Record<string, unknown> }>();

  constructor(env: Env, app: AppView, waitUntil: (p: Promise<unknown>) => void) {
    this.env = env;
    this.app = app;
    this.relations = new RelationStore(env.DB, app.sdkAppId);
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

  /** Queues an event for a user's devices; `flush` sends each user's events once. */
  tell(userId: string, event: SnsEvent, data: Record<string, unknown> = {}): void {
    const entry = this.pending.get(userId) ?? { events: new Set<SnsEvent>(), data: {} };
    entry.events.add(event);
    Object.assign(entry.data, data);
    this.pending.set(userId, entry);
  }

  /** Tells every queued user's actor: it drops its cached relations and pushes the events to its sockets. */
  async flush(): Promise<void> {
    const batch = [...this.pending];
    this.pending.clear();
    await Promise.all(
      batch.map(([userId, { events, data }]) => {
        const ref = { sdkAppId: this.sdkAppId, userId };
        return userActor(this.env, ref).relationsChanged(ref, [...events], data);
      }),
    );
  }

  /** Runs after the answer: fan-out to many users must not hold the caller. */
  later(work: () => Promise<unknown>): void {
    this.waitUntil(work());
  }
}
