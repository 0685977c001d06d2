/**
 * The narrow view of a UserActor that its parts (sessions, one-to-one
 * messages, conversations, retention) work through. The actor owns the
 * state; each part sees only what it needs.
 */
import type { AppSettings } from "../../domain/app.ts";
import type { UserEvent } from "../../domain/events.ts";
import type { Env } from "../../env.ts";
import type { UserActor } from "../UserActor.ts";
import type { UserRef } from "../refs.ts";
import type { UserStore } from "./UserStore.ts";
import type { UserCallbacks } from "./callbacks.ts";
import type { ActorStats } from "../stats.ts";
import type { GlobalMute } from "../../domain/moderation.ts";

export interface UserHost {
  readonly env: Env;
  /** Whose actor this is (from the object's name). */
  readonly me: UserRef;
  readonly store: UserStore;
  /** Runs `work` as one storage transaction. */
  transaction<T>(work: () => T): T;
  /** Pushes an event to every logged-in device; returns how many got it. */
  push(event: UserEvent): number;
  /** Records an event in the user's sequence and pushes it. */
  announce(event: Parameters<UserStore["appendEvent"]>[0]): void;
  settings(): Promise<AppSettings>;
  /** Fails with `code` unless the account exists (checked once per wake). */
  requireAccount(code?: number): Promise<void>;
  /** The user's global mute, known once `requireAccount` has run (none for an app admin without an account). */
  globalMute(): GlobalMute | undefined;
  /** Another user of this app, and that user's actor. */
  peer(userId: string): { ref: UserRef; actor: DurableObjectStub<UserActor> };
  /** The user's after-callbacks, queued with the action and delivered after it. */
  readonly callbacks: UserCallbacks;
  /** The user's statistics counts, written with the action's own writes. */
  readonly stats: ActorStats;
  /** After a write: make sure retention will look at this history. */
  historyWritten(): void;
}
