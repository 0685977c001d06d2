/**
 * A group's deliveries to its members' devices: one call per fan-out hub
 * that holds any of the recipients (`domain/fanout.ts`), never one per
 * member. Deliveries made within one turn of the event loop go together, so a
 * burst of messages costs one call per hub, not one per message and hub.
 */
import { byHub } from "../../domain/fanout.ts";
import type { GroupEvent } from "../../domain/groupMessage.ts";
import type { Env } from "../../env.ts";
import type { Delivery } from "../FanoutHub.ts";
import { fanoutHub } from "../refs.ts";

export class GroupFanout {
  private readonly env: Env;
  private readonly sdkAppId: number;
  private readonly hubCount: () => Promise<number>;
  private pending = new Map<number, Delivery[]>();
  private flushing: Promise<void> | null = null;
  /** Calls made to hubs since the actor woke (the per-message cost). */
  readonly usage = { hubCalls: 0 };

  constructor(env: Env, sdkAppId: number, hubCount: () => Promise<number>) {
    this.env = env;
    this.sdkAppId = sdkAppId;
    this.hubCount = hubCount;
  }

  /** Members by hub, kept for a recipient list that comes back unchanged (the group's receivers). */
  private partitions = new WeakMap<string[], { hubs: number; byHub: Map<number, string[]> }>();

  /** Queues `event` for these users' devices; sent at the end of the current turn. */
  publish(event: GroupEvent, userIds: string[], hubs: number): void {
    let partition = this.partitions.get(userIds);
    if (!partition || partition.hubs !== hubs) {
      partition = { hubs, byHub: byHub(userIds, hubs) };
      this.partitions.set(userIds, partition);
    }
    for (const [hub, users] of partition.byHub) {
      const list = this.pending.get(hub);
      if (list) list.push({ event, userIds: users });
      else this.pending.set(hub, [{ event, userIds: users }]);
    }
    this.flushing ??= Promise.resolve().then(() => this.flush());
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = null;
    this.usage.hubCalls += batch.size;
    await Promise.allSettled(
      [...batch].map(([hub, deliveries]) =>
        fanoutHub(this.env, this.sdkAppId, hub)
          .deliver(deliveries)
          .catch((error: unknown) => console.error(JSON.stringify({ event: "fanout_failed", app: this.sdkAppId, hub, message: String(error) }))),
      ),
    );
  }

  /** How many hubs the app has now. */
  hubs(): Promise<number> {
    return this.hubCount();
  }
}
