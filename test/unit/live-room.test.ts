/** The pure decisions of live rooms (domain/liveRoom.ts) and the ordered relay (mechanisms/orderedRelay.ts). */
import { describe, expect, it } from "vitest";
import type { MsgPriority } from "../../src/domain/group.ts";
import { admitByPriority, audienceChanges, checkTicket, grantSeats, keepRecent, LiveSettings, placesFromBlocks, placeViewer, relayPlan, signTicket, trimBacklog, type LiveItem } from "../../src/domain/liveRoom.ts";
import type { TokenBucket } from "../../src/domain/rateLimit.ts";
import { OrderedRelay } from "../../src/mechanisms/orderedRelay.ts";

describe("placing viewers", () => {
  it("fills the lowest shard with room, then opens the lowest free number", () => {
    expect(placeViewer(new Map(), 2)).toEqual({ shard: 0, opened: true });
    expect(placeViewer(new Map([[0, 1]]), 2)).toEqual({ shard: 0, opened: false });
    expect(placeViewer(new Map([[0, 2], [1, 0]]), 2)).toEqual({ shard: 1, opened: false });
    expect(placeViewer(new Map([[0, 2], [2, 2]]), 2)).toEqual({ shard: 1, opened: true });
  });
});

describe("seat blocks", () => {
  it("give up to a block of the lowest shard with room, never more than it has left", () => {
    expect(grantSeats(new Map(), 500, 64)).toEqual({ shard: 0, seats: 64 });
    expect(grantSeats(new Map([[0, 480]]), 500, 64)).toEqual({ shard: 0, seats: 20 });
    expect(grantSeats(new Map([[0, 500], [1, 499]]), 500, 64)).toEqual({ shard: 1, seats: 1 });
    expect(grantSeats(new Map([[0, 520]]), 500, 64)).toEqual({ shard: 1, seats: 64 });
  });

  it("are used once a room is past the audience that gets join tips", () => {
    expect(placesFromBlocks(1_000, { tipsUpTo: 1_000 })).toBe(false);
    expect(placesFromBlocks(1_001, { tipsUpTo: 1_000 })).toBe(true);
  });
});

describe("a shard's report", () => {
  it("names who arrived (oldest first) and who left since the last one", () => {
    const changes = audienceChanges(new Set(["a", "b"]), new Map([["b", 5], ["d", 9], ["c", 7]]));
    expect(changes).toEqual({ joined: [{ userId: "c", at: 7 }, { userId: "d", at: 9 }], left: ["a"] });
  });
});

describe("recent messages for late joiners", () => {
  it("keeps the newest by MsgSeq, each once, oldest first", () => {
    const m = (seq: number) => ({ seq });
    expect(keepRecent([m(3), m(1), m(2), m(3), m(5)], 3)).toEqual([m(2), m(3), m(5)]);
    expect(keepRecent([m(1)], 0)).toEqual([]);
  });

  it("keeps at most 100, none by default", () => {
    expect(LiveSettings.parse({}).keepLast).toBe(0);
    expect(LiveSettings.safeParse({ keepLast: 101 }).success).toBe(false);
  });
});

describe("the relay plan", () => {
  it("calls every shard directly up to the fan-out, then one head per block", () => {
    expect(relayPlan([2, 0, 1], 4)).toEqual([{ shard: 0, relayTo: [] }, { shard: 1, relayTo: [] }, { shard: 2, relayTo: [] }]);
    const plan = relayPlan([...Array(10).keys()], 3);
    expect(plan.length).toBeLessThanOrEqual(3);
    expect(plan.flatMap((p) => [p.shard, ...p.relayTo]).sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
  });
});

describe("admission by priority", () => {
  function burst(perSecond: number, rounds: number, cost = 1) {
    let bucket: TokenBucket | undefined;
    const dropped: Record<MsgPriority, number> = { High: 0, Normal: 0, Low: 0, Lowest: 0 };
    for (let i = 0; i < rounds; i++) {
      for (const priority of ["Lowest", "Low", "Normal", "High"] as const) {
        const verdict = admitByPriority(bucket, perSecond, priority, 1_000, cost);
        bucket = verdict.bucket;
        if (!verdict.admitted) dropped[priority]++;
      }
    }
    return dropped;
  }

  it("drops Lowest first, then Low, then Normal, and never High", () => {
    expect(burst(8, 10)).toEqual({ Lowest: 9, Low: 8, Normal: 7, High: 0 });
  });

  it("lets a message costing more than the whole budget into a full bucket", () => {
    expect(admitByPriority(undefined, 10, "Normal", 0, 500).admitted).toBe(true);
  });

  it("refills with time", () => {
    let bucket = admitByPriority(undefined, 2, "Normal", 0).bucket;
    bucket = admitByPriority(bucket, 2, "Normal", 0).bucket;
    expect(admitByPriority(bucket, 2, "Normal", 0).admitted).toBe(false);
    expect(admitByPriority(bucket, 2, "Normal", 600).admitted).toBe(true);
  });
});

describe("a backlog that falls behind", () => {
  const message = (seq: number, priority: MsgPriority): LiveItem => ({ kind: "message", seq, priority, text: String(seq) });

  it("drops the lowest priorities first, oldest first, and keeps High and changes", () => {
    const items: LiveItem[] = [message(1, "Normal"), message(2, "Lowest"), { kind: "ban", userIds: ["x"], until: 9 }, message(3, "Low"), message(4, "High"), message(5, "Lowest")];
    const { kept, dropped } = trimBacklog(items, 3);
    expect(dropped).toEqual({ Lowest: 2, Low: 1 });
    expect(kept.map((i) => (i.kind === "message" ? i.seq : i.kind))).toEqual([1, "ban", 4]);
    expect(trimBacklog(items, 1).kept.map((i) => i.kind)).toEqual(["ban", "message"]);
  });
});

describe("tickets", () => {
  const claims = { sdkAppId: 1, groupId: "room", shard: 2, userId: "alice" };

  it("open only the shard, room, user and app they were signed for, until they expire", async () => {
    const ticket = await signTicket("key", { ...claims, expiresAt: 100 });
    expect(await checkTicket("key", ticket, claims, 50)).toBeNull();
    expect(await checkTicket("key", ticket, claims, 100)).toMatch(/expired/);
    expect(await checkTicket("key", ticket, { ...claims, shard: 3 }, 50)).toMatch(/not for this/);
    expect(await checkTicket("key", ticket, { ...claims, userId: "bob" }, 50)).toMatch(/not for this/);
    expect(await checkTicket("other", ticket, claims, 50)).toMatch(/not for this/);
    expect(await checkTicket("key", "200." + ticket.split(".")[1], claims, 50)).toMatch(/not for this/);
    expect(await checkTicket("key", "junk", claims, 50)).toMatch(/malformed/);
  });
});

describe("the ordered relay", () => {
  it("keeps order per target, batches what arrives while a call is out, and survives a failed call", async () => {
    const calls: [number, number[]][] = [];
    let fail = true;
    const relay = new OrderedRelay<number>({
      call: async (target, items) => {
        await new Promise((r) => setTimeout(r, 5));
        calls.push([target, items]);
        if (fail) {
          fail = false;
          throw new Error("down");
        }
      },
      trim: (backlog) => backlog.slice(-3),
      failed: () => undefined,
    });
    relay.send(1, [1]);
    relay.send(1, [2]);
    relay.send(1, [3, 4, 5, 6]);
    relay.send(2, [7]);
    await relay.idle();
    expect(calls.filter(([t]) => t === 1).map(([, items]) => items)).toEqual([[1], [4, 5, 6]]);
    expect(calls.filter(([t]) => t === 2).map(([, items]) => items)).toEqual([[7]]);
  });
});
