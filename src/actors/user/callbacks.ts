/**
 * The user's after-callbacks (C2C.CallbackAfterSendMsg, C2C.CallbackAfterMsgWithDraw,
 * State.StateChange): the actor's own queue (`callbacks/afterQueue.ts`), in order per
 * conversation ("c2c:<peer>") and for the user's state ("state").
 */
import type { AppSettings } from "../../domain/app.ts";
import { AfterCallbackQueue } from "../../callbacks/afterQueue.ts";
import type { UserRef } from "../refs.ts";
import type { StateChange } from "./sessions.ts";
import type { Counts } from "../../domain/stats.ts";

const stateChangeCommand = "State.StateChange";

export interface CallbacksHost {
  readonly ctx: DurableObjectState;
  readonly me: UserRef;
  settings(): Promise<AppSettings>;
  /** Make sure the alarm fires by `at`. */
  wakeBy(at: number): Promise<void>;
  /** The user's statistics. */
  count(counts: Counts): void;
}

export class UserCallbacks extends AfterCallbackQueue {
  private readonly me: UserRef;
  private readonly settingsOf: () => Promise<AppSettings>;

  constructor(host: CallbacksHost) {
    super({ ctx: host.ctx, sdkAppId: host.me.sdkAppId, settings: () => host.settings(), wakeBy: (at) => host.wakeBy(at), count: (counts) => host.count(counts) });
    this.me = host.me;
    this.settingsOf = () => host.settings();
  }

  /** State.StateChange: a device logged in, logged out or disconnected. */
  async stateChanged(change: StateChange): Promise<void> {
    if (!this.enabled(await this.settingsOf(), stateChangeCommand)) return;
    const fields: Record<string, unknown> = { Info: { Action: change.action, To_Account: this.me.userId, Reason: change.reason } };
    if (change.kicked && change.kicked.length > 0) fields.KickedDevice = change.kicked.map((platform) => ({ Platform: platform }));
    this.queueFrom(stateChangeCommand, "state", fields, { platform: change.platform, clientIp: change.clientIp });
    this.deliverSoon();
  }
}
