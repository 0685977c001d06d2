import { describe, expect, it } from "vitest";
import type { StoredC2CMessage } from "../../src/domain/message.ts";
import { aRandom, TestClient, text } from "./clients.ts";
import { appWithUsers } from "./helpers.ts";

describe("batchsendmsg", () => {
  it("sends to every recipient and lists the ones that failed", async () => {
    const { app, ids } = await appWithUsers(4);
    const [from, ...to] = ids as [string, ...string[]];
    const answer = await app.rest("openim/batchsendmsg", { From_Account: from, To_Account: [...to, "ghost"], MsgRandom: aRandom(), MsgBody: text("news") });
    expect(answer.body).toMatchObject({ ActionStatus: "OK", ErrorCode: 0, MsgKey: expect.stringMatching(/^\d+_\d+_\d+$/), ErrorList: [{ To_Account: "ghost", ErrorCode: 90012 }] });
    for (const id of to) {
      const roam = await app.rest("openim/admin_getroammsg", { Operator_Account: id, Peer_Account: from, MaxCnt: 10 });
      expect((roam.body.MsgList as { MsgBody: unknown }[]).map((m) => m.MsgBody)).toEqual([text("news")]);
    }
  });

  it("refuses more than 500 recipients with 90011", async () => {
    const { app, ids } = await appWithUsers(1);
    const to = Array.from({ length: 501 }, (_, i) => `r${i}`);
    expect((await app.rest("openim/batchsendmsg", { From_Account: ids[0], To_Account: to, MsgRandom: 1, MsgBody: text("x") })).body.ErrorCode).toBe(90011);
  });
});

describe("importmsg", () => {
  it("writes neither copy when one of the accounts does not exist", async () => {
    const { app, ids: [b] } = await appWithUsers(1);
    const answer = await app.rest("openim/importmsg", { SyncFromOldSystem: 1, From_Account: "ghost", To_Account: b, MsgRandom: 1, MsgTimeStamp: 1_600_000_000, MsgBody: text("x") });
    expect(answer.body.ErrorCode).toBe(90008);
    const roam = await app.rest("openim/admin_getroammsg", { Operator_Account: b, Peer_Account: "ghost", MaxCnt: 10 });
    expect(roam.body.MsgCnt).toBe(0);
  });

  it("imports history as read and unpushed (SyncFromOldSystem 2)", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2);
    const receiver = await TestClient.connect(app, b!);
    const answer = await app.rest("openim/importmsg", { SyncFromOldSystem: 2, From_Account: a, To_Account: b, MsgRandom: 77, MsgTimeStamp: 1_600_000_000, MsgBody: text("old") });
    expect(answer.body.ErrorCode).toBe(0);
    expect(await receiver.call("getTotalUnread")).toMatchObject({ total: 0 });
    const history = await receiver.call<{ messages: StoredC2CMessage[] }>("getMessageList", { peer: a });
    expect(history.messages).toEqual([expect.objectContaining({ time: 1_600_000_000, body: text("old"), flow: "in" })]);
    expect(receiver.eventsOf("message")).toEqual([]);
  });

  it("imports live messages as unread and pushed (SyncFromOldSystem 5), once", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2);
    const receiver = await TestClient.connect(app, b!);
    const body = { SyncFromOldSystem: 5, From_Account: a, To_Account: b, MsgRandom: 78, MsgTimeStamp: 1_700_000_000, MsgBody: text("live") };
    await app.rest("openim/importmsg", body);
    await app.rest("openim/importmsg", body);
    expect(await receiver.call("getTotalUnread")).toMatchObject({ total: 1 });
    expect(await receiver.waitForEvents("message", 1)).toHaveLength(1);
    const fromSide = await app.rest("openim/admin_getroammsg", { Operator_Account: a, Peer_Account: b });
    expect(fromSide.body.MsgCnt).toBe(1);
  });

  it("answers 90008 for a sender that does not exist", async () => {
    const { app, ids: [b] } = await appWithUsers(1);
    const answer = await app.rest("openim/importmsg", { SyncFromOldSystem: 2, From_Account: "ghost", To_Account: b, MsgRandom: 1, MsgTimeStamp: 1, MsgBody: text("x") });
    expect(answer.body.ErrorCode).toBe(90008);
  });
});

describe("admin_getroammsg", () => {
  it("pages through a conversation with LastMsgKey until Complete", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2);
    const keys: string[] = [];
    for (let i = 0; i < 5; i++) keys.push((await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgBody: text(`${i}`) })).body.MsgKey as string);
    const first = await app.rest("openim/admin_getroammsg", { Operator_Account: a, Peer_Account: b, MaxCnt: 3, MinTime: 0, MaxTime: 2 ** 31 });
    expect(first.body).toMatchObject({ Complete: 0, MsgCnt: 3, LastMsgKey: keys[2] });
    expect((first.body.MsgList as { MsgKey: string }[]).map((m) => m.MsgKey)).toEqual([keys[4], keys[3], keys[2]]);
    const second = await app.rest("openim/admin_getroammsg", { Operator_Account: a, Peer_Account: b, MaxCnt: 3, LastMsgKey: first.body.LastMsgKey });
    expect(second.body).toMatchObject({ Complete: 1, MsgCnt: 2 });
    expect((second.body.MsgList as { MsgKey: string }[]).map((m) => m.MsgKey)).toEqual([keys[1], keys[0]]);
    expect((second.body.MsgList as Record<string, unknown>[])[0]).toEqual({
      From_Account: a,
      To_Account: b,
      MsgSeq: expect.any(Number),
      MsgRandom: expect.any(Number),
      MsgTimeStamp: expect.any(Number),
      MsgFlagBits: 0,
      IsPeerRead: 0,
      MsgKey: keys[1],
      MsgBody: text("1"),
      CloudCustomData: "",
    });
  });

  it("answers 90054 for a LastMsgKey that is not a MsgKey", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2);
    expect((await app.rest("openim/admin_getroammsg", { Operator_Account: a, Peer_Account: b, LastMsgKey: "nope" })).body.ErrorCode).toBe(90054);
  });
});

describe("read state over REST", () => {
  it("admin_set_msg_read clears the unread that get_c2c_unread_msg_num reports", async () => {
    const { app, ids: [a, b, c] } = await appWithUsers(3);
    for (const from of [a, a, c]) await app.rest("openim/sendmsg", { From_Account: from, To_Account: b, MsgRandom: aRandom(), MsgBody: text("hi") });
    const before = await app.rest("openim/get_c2c_unread_msg_num", { To_Account: b });
    expect(before.body).toMatchObject({ AllC2CUnreadMsgNum: 3 });
    expect(before.body.C2CUnreadMsgNumList).toEqual(expect.arrayContaining([{ Peer_Account: a, C2CUnreadMsgNum: 2 }, { Peer_Account: c, C2CUnreadMsgNum: 1 }]));
    await app.rest("openim/admin_set_msg_read", { Report_Account: b, Peer_Account: a });
    const after = await app.rest("openim/get_c2c_unread_msg_num", { To_Account: b, Peer_Account: [a, c] });
    expect(after.body).toMatchObject({ AllC2CUnreadMsgNum: 1, C2CUnreadMsgNumList: [{ Peer_Account: a, C2CUnreadMsgNum: 0 }, { Peer_Account: c, C2CUnreadMsgNum: 1 }] });
    const roam = await app.rest("openim/admin_getroammsg", { Operator_Account: a, Peer_Account: b });
    expect((roam.body.MsgList as { IsPeerRead: number }[]).every((m) => m.IsPeerRead === 1)).toBe(true);
  });
});

describe("query_online_status", () => {
  it("reports Online with per-platform detail, and Offline", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2);
    await TestClient.connect(app, a!, { platform: "iOS", device: "p" });
    await TestClient.connect(app, a!, { platform: "Web", device: "w" });
    const answer = await app.rest("openim/query_online_status", { To_Account: [a, b], IsNeedDetail: 1 });
    expect(answer.body.QueryResult).toEqual([
      { To_Account: a, Status: "Online", Detail: expect.arrayContaining([{ Platform: "iOS", Status: "Online" }, { Platform: "Web", Status: "Online" }]) },
      { To_Account: b, Status: "Offline", Detail: [] },
    ]);
  });
});

describe("deleting an account", () => {
  it("closes its connections and empties its message store", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2);
    await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgBody: text("bye") });
    const client = await TestClient.connect(app, b!);
    await app.rest("im_open_login_svc/account_delete", { DeleteItem: [{ UserID: b }] });
    expect((await client.waitForClose()).code).toBe(4003);
    expect(client.eventsOf("kickedOut")).toEqual([{ reason: "accountDeleted" }]);
    await app.rest("im_open_login_svc/account_import", { UserID: b });
    const roam = await app.rest("openim/admin_getroammsg", { Operator_Account: b, Peer_Account: a });
    expect(roam.body.MsgCnt).toBe(0);
  });
});
