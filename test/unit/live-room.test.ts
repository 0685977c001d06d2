/** The pure decisions of live rooms (domain/liveRoom.ts) and the ordered relay (mechanisms/orderedRelay.ts). */
import { describe, expect, it } from "vitest";
import type { MsgPriority } from "../../src/domain/group.ts";
import {
  admitByPriority,
  audienceChanges,
  checkTicket,
  grantSeats,
  heldPlaces,
  keepRecent,
  LiveSettings,
  measureDeliveryRate,
  placeHoldMs,
  placesFromBlocks,
  placeViewer,
  relaxDeliveryRate,
  relayPlan,
  releasePlaces,
  shardAdmissionRate,
  signTicket,
  takePlaces,
  trimBacklog,
  type LiveItem,
} from "../../src/domain/liveRoom.ts";
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

describe("places held for viewers on their way", () => {
  it("are taken by arrivals oldest first, and expire unused after placeHoldMs", () => {
    const places = [
      { count: 10, at: 0 },
      { count: 5, at: 1_000 },
    ];
    expect(heldPlaces(places, 2_000)).toBe(15);
    // Two reports that saw three arrivals between them: twelve places still held.
    const after = takePlaces(takePlaces(places, 2, 1_500), 1, 2_500);
    expect(after).toEqual([
      { count: 7, at: 0 },
      { count: 5, at: 1_000 },
    ]);
    expect(heldPlaces(after, 2_500)).toBe(12);
    expect(heldPlaces(after, placeHoldMs + 500)).toBe(5);
    expect(takePlaces(after, 0, placeHoldMs + 1_000)).toEqual([]);
    expect(takePlaces(after, 50, 2_600)).toEqual([]);
  });

  it("go back when a block leaves them unused, the newest first", () => {
    const places = [
      { count: 10, at: 0 },
      { count: 64, at: 1_000 },
    ];
    expect(releasePlaces(places, 60)).toEqual([
      { count: 10, at: 0 },
      { count: 4, at: 1_000 },
    ]);
    expect(releasePlaces(places, 70)).toEqual([{ count: 4, at: 0 }]);
    expect(releasePlaces(places, 100)).toEqual([]);
  });
});

describe("a shard's broadcast rate", () => {
  it("is measured from back-to-back batches, capped by the app's setting, and relaxes when the shard keeps up", () => {
    const measured = measureDeliveryRate(undefined, 1_500, 500);
    expect(measured).toBe(3_000);
    expect(measureDeliveryRate(measured, 1_500, 250)).toBe(3_000 * 0.7 + 6_000 * 0.3);
    // A batch of a few deliveries times the call, not the broadcast: no sample.
    expect(measureDeliveryRate(measured, 10, 250)).toBe(3_000);
    expect(shardAdmissionRate(undefined, 20_000)).toBe(20_000);
    expect(shardAdmissionRate(3_000, 20_000)).toBe(3_000);
    expect(shardAdmissionRate(50_000, 20_000)).toBe(20_000);
    expect(relaxDeliveryRate(3_000, 20_000)).toBe(3_750);
    expect(relaxDeliveryRate(19_000, 20_000)).toBeUndefined();
  });

  it("admits about what the shard delivers per second, so a busy lane drops as it goes rather than in a burst", () => {
    // 1,500 sockets, measured 3,000 deliveries/s: a batch after a second admits two Normal messages of ten.
    let bucket = admitByPriority(undefined, 3_000, "Normal", 0, 1_500).bucket;
    bucket = admitByPriority(bucket, 3_000, "Normal", 0, 1_500).bucket;
    let admitted = 0;
    for (let i = 0; i < 10; i++) {
      const a = admitByPriority(bucket, 3_000, "Normal", 1_000, 1_500);
      bucket = a.bucket;
      if (a.admitted) admitted++;
    }
    expect(admitted).toBe(2);
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

  it("tells a call whether its batch waited behind the one before", async () => {
    const seen: [number[], boolean][] = [];
    const relay = new OrderedRelay<number>({
      call: async (_target, items, backToBack) => {
        seen.push([items, backToBack]);
        await new Promise((r) => setTimeout(r, 5));
      },
      trim: (backlog) => backlog,
      failed: () => undefined,
    });
    relay.send(1, [1]);
    relay.send(1, [2]);
    await relay.idle();
    relay.send(1, [3]);
    await relay.idle();
    expect(seen).toEqual([
      [[1], false],
      [[2], true],
      [[3], false],
    ]);
  });
});
