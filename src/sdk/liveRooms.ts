/**
 * Live rooms (AVChatRoom): a room's audience is held by its shards, so each room the device
 * watches has a connection of its own (/v1/live) to the shard its join named, hidden from the
 * app. A room's messages come once each (MsgSeq increases with gaps; there is no history to
 * catch up), acknowledged every 64 as the protocol asks. A reconnect uses the same ticket and
 * lands on the same shard; a ticket the shard refuses (expired) is replaced by joining again
 * (docs/PROTOCOL.md, "The live connection").
 */
import type { GroupEvent, GroupMessage, GroupSendResult } from "../domain/groupMessage.ts";
import { Connection } from "./connection.ts";
import { ChatError } from "./constants.ts";

/** What a join of a live room answers in `live`. */
export interface LiveTicket {
  groupId: string;
  shard: number;
  ticket: string;
  expiresAt: number;
}

export interface LiveRoomsHost {
  /** The URL of the user's own connection: its query names the app, user, platform and device. */
  connectUrl(): string;
  userSig(): string;
  /** Joins the room again on the user's connection, for a new ticket. */
  join(groupID: string): Promise<LiveTicket>;
  message(message: GroupMessage): void;
  event(event: Exclude<GroupEvent, { kind: "groupMessage" }>): void;
  /** The room stopped taking this device: banned (4011) or refused when joining again. */
  removed(groupID: string, code: number): void;
}

/** The device acks after this many messages (docs/PROTOCOL.md). */
const ackEvery = 64;
/** Live-connection close codes after which the room does not take the device back. */
const LiveClose = { quit: 1000, dismissed: 4010, banned: 4011 } as const;
const ticketRefused = 10007;
const noSuchGroup = 10010;

interface Room {
  groupID: string;
  ticket: LiveTicket;
  connection: Connection;
  /** The newest MsgSeq handed on: anything at or below it was shown already. */
  lastSeq: number;
  sinceAck: number;
}

export class LiveRooms {
  private readonly host: LiveRoomsHost;
  private readonly rooms = new Map<string, Room>();

  constructor(host: LiveRoomsHost) {
    this.host = host;
  }

  has(groupID: string): boolean {
    return this.rooms.has(groupID);
  }

  /** Opens (or keeps) the live connection a join answered; resolves once it is logged in. */
  async watch(ticket: LiveTicket): Promise<void> {
    const room = this.rooms.get(ticket.groupId);
    if (room && room.ticket.shard === ticket.shard && room.ticket.ticket === ticket.ticket) return;
    room?.connection.stop();
    const next: Room = { groupID: ticket.groupId, ticket, connection: undefined as never, lastSeq: room?.lastSeq ?? 0, sinceAck: 0 };
    this.rooms.set(ticket.groupId, next);
    try {
      await this.open(next, ticket);
    } catch (error) {
      if (this.rooms.get(ticket.groupId) === next) this.rooms.delete(ticket.groupId);
      throw error;
    }
  }

  /** Stops watching a room (the user quit it). */
  stop(groupID: string): void {
    this.rooms.get(groupID)?.connection.stop();
    this.rooms.delete(groupID);
  }

  stopAll(): void {
    for (const groupID of [...this.rooms.keys()]) this.stop(groupID);
  }

  /** A request on the room's live connection; its answer's code becomes a ChatError. */
  async call<T>(groupID: string, op: string, data: unknown, timeoutMs?: number): Promise<T> {
    const room = this.rooms.get(groupID);
    if (!room) throw new ChatError(ticketRefused, `not watching live room ${groupID}: join it first`);
    const answer = await room.connection.request(op, data, timeoutMs);
    if (answer.code !== 0) throw new ChatError(answer.code, answer.message);
    return answer.data as T;
  }

  send(groupID: string, draft: { random: number; body: unknown; cloudCustomData?: string; priority?: string }): Promise<GroupSendResult> {
    return this.call<GroupSendResult>(groupID, "sendGroupMessage", { groupID, ...draft });
  }

  lastSeq(groupID: string): number {
    return this.rooms.get(groupID)?.lastSeq ?? 0;
  }

  private open(room: Room, ticket: LiveTicket): Promise<void> {
    const url = new URL(this.host.connectUrl());
    url.pathname = "/v1/live";
    url.searchParams.set("groupid", ticket.groupId);
    url.searchParams.set("shard", String(ticket.shard));
    url.searchParams.set("ticket", ticket.ticket);
    room.ticket = ticket;
    room.connection = new Connection({
      url: url.toString(),
      userSig: this.host.userSig(),
      onLogin: async () => {
        // A new connection starts its count of unacknowledged messages afresh.
        room.sinceAck = 0;
      },
      onEvent: (frame) => this.onEvent(room, frame.data as GroupEvent),
      // Hidden from the app: the user's own connection reports the network.
      onNetState: () => undefined,
      onEnd: (reason) => void this.ended(room, reason.code ?? 0),
      finalCloseCodes: Object.values(LiveClose),
    });
    return room.connection.start();
  }

  private onEvent(room: Room, event: GroupEvent): void {
    if (event.kind !== "groupMessage") return this.host.event(event);
    const m = event.message;
    if (m.seq <= room.lastSeq) return;
    room.lastSeq = m.seq;
    this.host.message(m);
    // A device that stops acking is cut off as a slow consumer (4009): ack what was processed.
    if (++room.sinceAck >= ackEvery) {
      room.sinceAck = 0;
      room.connection.request("ack", { seq: m.seq }).catch(() => undefined);
    }
  }

  /** The live connection ended for good: a refused ticket joins again; a ban, quit or dismissal ends the watch. */
  private async ended(room: Room, code: number): Promise<void> {
    if (this.rooms.get(room.groupID) !== room) return;
    if (code !== ticketRefused) {
      this.rooms.delete(room.groupID);
      // A quit and a dismissal were told already (the app quit; the dismissal's notice came first); a
      // device replaced by another connection of itself (code 0: kicked) leaves the room to that one.
      if (code !== 0 && code !== LiveClose.quit && code !== LiveClose.dismissed && code !== noSuchGroup) this.host.removed(room.groupID, code);
      return;
    }
    try {
      const ticket = await this.host.join(room.groupID);
      if (this.rooms.get(room.groupID) === room) await this.open(room, ticket);
    } catch (error) {
      if (this.rooms.get(room.groupID) !== room) return;
      this.rooms.delete(room.groupID);
      this.host.removed(room.groupID, (error as { code?: number }).code ?? ticketRefused);
    }
  }
}
