/**
 * The group's callbacks: before-callbacks asked inline (within the app's timeout, a failure
 * deciding as the app chose) and after-callbacks queued in the group's own outbox with the
 * change, in order per group. The bodies are `domain/groupCallbacks.ts`'s.
 */
import { AfterCallbackQueue } from "../../callbacks/afterQueue.ts";
import { askBefore, sendCallback } from "../../callbacks/send.ts";
import type { AppSettings } from "../../domain/app.ts";
import { CallbackCode, callbackEnabled, decisionOnFailure, type BeforeDecision, type CallbackSettings } from "../../domain/callbacks.ts";
import { groupError } from "../../domain/group.ts";
import { GroupCallback, sendMsgFields, type CallbackOrigin } from "../../domain/groupCallbacks.ts";
import type { GroupProfile } from "../../domain/group.ts";
import { checkMessageSize, type MsgBody } from "../../domain/message.ts";
import { logEvent } from "../../ops/log.ts";
import type { Counts } from "../../domain/stats.ts";
import type { GroupCaller } from "./host.ts";

/** The one line of after-callbacks of a group. */
const target = "group";

/** Where the caller acted from: its device's platform, or REST. */
export function originOf(caller: GroupCaller): CallbackOrigin {
  return { platform: caller.platform ?? "RESTAPI", ...(caller.clientIp ? { clientIp: caller.clientIp } : {}) };
}

/** Operator_Account: the user acting, or the admin who signed the REST call. */
export function operatorOf(caller: GroupCaller): string {
  return caller.userId ?? caller.adminId ?? "";
}

/** A send's Operator_Account: who made the request, so the admin of a REST send_group_msg even when From_Account names the sender. */
export function sendOperatorOf(caller: GroupCaller, from: string): string {
  return caller.adminId ?? caller.userId ?? from;
}

/** Throws the refusal a before-callback decided, if it did. */
export function refuseOn(decision: { kind: string; code?: number; info?: string } | null): void {
  if (decision?.kind === "refuse") throw groupError(decision.code ?? CallbackCode.groupRefused, decision.info ?? "refused by the app's backend");
}

export class GroupCallbacks extends AfterCallbackQueue {
  /** Counts each before-callback's attempt in the group's statistics. */
  private readonly counter = (counts: Counts) => this.host.count?.(counts);

  /**
   * Asks a before-callback when the app sends it (null when it does not) and reads the answer
   * with `read` (`fields` are built only then); a failure (timeout, error, an answer `read` does not take) decides as the app chose.
   */
  async ask<D extends { kind: string }>(
    settings: AppSettings,
    command: string,
    caller: GroupCaller,
    fields: () => Record<string, unknown> | Promise<Record<string, unknown>>,
    read: (answer: unknown) => { decision: D } | { failure: string },
  ): Promise<D | BeforeDecision | null> {
    const callbacks = settings.callbacks;
    if (!callbackEnabled(callbacks, command)) return null;
    const origin = originOf(caller);
    const result = await sendCallback({ sdkAppId: this.host.sdkAppId, settings: callbacks, command, fields: await fields(), eventTime: Date.now(), platform: origin.platform, clientIp: origin.clientIp, count: this.counter });
    if (!result.ok) return decisionOnFailure(callbacks, result.reason);
    const answer = read(result.answer);
    if ("decision" in answer) return answer.decision;
    logEvent({ event: "callback_answer_invalid", app: this.host.sdkAppId, command, reason: answer.failure });
    return decisionOnFailure(callbacks, answer.failure);
  }

  /** Queues an after-callback when the app sends it; call inside the change's transaction, then `deliverSoon`. */
  after(settings: AppSettings, command: string, caller: GroupCaller, fields: Record<string, unknown>): void {
    if (!this.enabled(settings, command)) return;
    this.queueFrom(command, target, fields, originOf(caller));
  }

  /**
   * Group.CallbackBeforeSendMsg: the app's backend allows, refuses, drops or rewrites the message
   * (a rewrite too large to send decides as a failure). Every group type's sends ask here.
   */
  async askBeforeSend(
    settings: CallbackSettings,
    caller: GroupCaller,
    profile: Pick<GroupProfile, "groupId" | "type">,
    from: string,
    draft: { random: number; body: MsgBody; cloudCustomData?: string; onlineOnly?: boolean; topicId?: string },
  ): Promise<BeforeDecision> {
    const command = GroupCallback.beforeSendMsg;
    const origin = originOf(caller);
    const decision = await askBefore(
      { sdkAppId: this.host.sdkAppId, settings, command, fields: sendMsgFields(profile, { ...draft, from }, sendOperatorOf(caller, from)), eventTime: Date.now(), platform: origin.platform, clientIp: origin.clientIp, count: this.counter },
      "group",
    );
    if (decision.kind !== "allow" || (decision.body === undefined && decision.cloudCustomData === undefined)) return decision;
    try {
      checkMessageSize(decision.body ?? draft.body, decision.cloudCustomData ?? draft.cloudCustomData);
    } catch {
      logEvent({ event: "callback_answer_invalid", app: this.host.sdkAppId, command, reason: "the rewritten message is too large" });
      return decisionOnFailure(settings, "the rewritten message is too large");
    }
    return decision;
  }
}
