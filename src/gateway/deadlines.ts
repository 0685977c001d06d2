/**
 * The deadlines every connection of the gateway keeps, whoever holds it: a
 * login within 10 seconds (else 4002), and the UserSig's expiry (then 4004).
 * The actor that holds the sockets runs this from its alarm.
 */
import { closeSocket, send } from "../mechanisms/socketHub.ts";
import { CloseCode } from "./session.ts";

export const loginDeadlineMs = 10_000;

export interface DeadlineState {
  connectedAt: number;
  loggedInAt?: number;
  /** Unix seconds. */
  sigExpiresAt?: number;
}

/** Closes the sockets past a deadline; returns the next deadline (epoch ms), or null for none. */
export function closePastDeadline(sockets: { ws: WebSocket; state: DeadlineState }[], now: number): number | null {
  let next = Infinity;
  for (const { ws, state } of sockets) {
    const deadline = state.loggedInAt ? (state.sigExpiresAt ?? Infinity) * 1000 : state.connectedAt + loginDeadlineMs;
    if (now < deadline) next = Math.min(next, deadline);
    else if (!state.loggedInAt) closeSocket(ws, CloseCode.loginRequired, "no login within 10 seconds");
    else {
      send(ws, { event: "userSigExpired", data: {} });
      closeSocket(ws, CloseCode.userSigExpired, "UserSig expired");
    }
  }
  return next === Infinity ? null : next;
}
