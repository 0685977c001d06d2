/** Statistics: counted as the actors work, exact after a known workload, one row per message. */
import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { groupActor, userActor } from "../../src/actors/refs.ts";
import type { GroupActor } from "../../src/actors/GroupActor.ts";
import type { UserActor } from "../../src/actors/UserActor.ts";
import { appInfoFields, dayOf } from "../../src/domain/stats.ts";
import { aRandom, TestClient, text } from "./clients.ts";
import { anApp, appWithUsers, type TestApp } from "./helpers.ts";

afterEach(() => TestClient.closeAll());

type DayRow = Record<string, number | string>;

/** Today's figures as edgeim_ops_svc/get_stats answers them. */
async function today(app: TestApp): Promise<{ online: number; row: DayRow }> {
  const answer = await app.rest("edgeim_ops_svc/get_stats", { Days: 1 });
  expect(answer.body.ErrorCode).toBe(0);
  const result = answer.body.Result as DayRow[];
  return { online: answer.body.OnlineNum as number, row: result[0]! };
}

/** Waits until today's figures include `expected` (counts reach D1 a few seconds after the work). */
async function expectToday(app: TestApp, expected: Record<string, number>, online?: number): Promise<DayRow> {
  let last: { online: number; row: DayRow } | undefined;
  await expect
    .poll(
      async () => {
        last = await today(app);
        const got = Object.fromEntries(Object.keys(expected).map((k) => [k, last!.row[k]]));
        return { ...got, ...(online !== undefined ? { online: last!.online } : {}) };
      },
      { timeout: 20_000, interval: 500 },
    )
    .toEqual({ ...expected, ...(online !== undefined ? { online } : {}) });
  return last!.row;
}

const sendText = (app: TestApp, from: string, to: string, t: string) =>
  app.rest("openim/sendmsg", { From_Account: from, To_Account: to, MsgRandom: aRandom(), MsgBody: text(t) });

describe("Statistics per app and per day", () => {
  it("are exact after a known workload of logins, messages, groups, friends and callbacks", { timeout: 60_000 }, async () => {
    const { app, ids } = await appWithUsers(5, {
      // A before-callback to a receiver that is not there: each send makes one failed attempt and proceeds.
      callbacks: { url: "http://callback.invalid/im", commands: ["C2C.CallbackBeforeSendMsg"], timeoutMs: 500, onTimeout: "proceed" },
    });
    const [a, b, c, d, e] = ids as [string, string, string, string, string];
    expect((await app.rest("im_open_login_svc/account_delete", { DeleteItem: [{ UserID: e }] })).body.ErrorCode).toBe(0);

    // Logins: a on two devices, b on one.
    const a1 = await TestClient.connect(app, a, { platform: "Web" });
    const a2 = await TestClient.connect(app, a, { platform: "Android" });
    const b1 = await TestClient.connect(app, b);
    for (const client of [a1, a2, b1]) expect(client.loginResponse?.code).toBe(0);

    // One-to-one: three from a's device, one through REST as b.
    for (let i = 0; i < 3; i++) await a1.call("sendMessage", { to: b, random: aRandom(), body: text(`hi ${i}`) });
    expect((await sendText(app, b, a, "hello")).body.ErrorCode).toBe(0);

    // A group of a, b and c; d joins, c leaves; a sends twice from its device, b once through REST.
    const created = await app.rest("group_open_http_svc/create_group", { Type: "Private", Name: "team", Owner_Account: a, MemberList: [{ Member_Account: b }, { Member_Account: c }] });
    expect(created.body.ErrorCode).toBe(0);
    const groupId = created.body.GroupId as string;
    expect((await app.rest("group_open_http_svc/add_group_member", { GroupId: groupId, MemberList: [{ Member_Account: d }] })).body.ErrorCode).toBe(0);
    expect((await app.rest("group_open_http_svc/delete_group_member", { GroupId: groupId, MemberToDel_Account: [c] })).body.ErrorCode).toBe(0);
    for (let i = 0; i < 2; i++) await a1.call("sendGroupMessage", { groupID: groupId, random: aRandom(), body: text(`to all ${i}`) });
    const restGroupSend = await app.rest("group_open_http_svc/send_group_msg", { GroupId: groupId, From_Account: b, Random: aRandom(), MsgBody: text("from b") });
    expect(restGroupSend.body.ErrorCode).toBe(0);
    // A second group, created and dismissed.
    const other = await app.rest("group_open_http_svc/create_group", { Type: "Public", Name: "gone", Owner_Account: b });
    expect((await app.rest("group_open_http_svc/destroy_group", { GroupId: other.body.GroupId })).body.ErrorCode).toBe(0);

    // Relationship chains: a and c both ways (one pair), b to c one way (one pair), then a and c part.
    const both = await app.rest("sns/friend_add", { From_Account: a, AddFriendItem: [{ To_Account: c }], AddType: "Add_Type_Both", ForceAddFlags: 1 });
    expect(both.body.ErrorCode).toBe(0);
    const single = await app.rest("sns/friend_add", { From_Account: b, AddFriendItem: [{ To_Account: c }], AddType: "Add_Type_Single", ForceAddFlags: 1 });
    expect(single.body.ErrorCode).toBe(0);
    expect((await app.rest("sns/friend_delete", { From_Account: a, To_Account: [c], DeleteType: "Delete_Type_Both" })).body.ErrorCode).toBe(0);

    // a's second device leaves: a is still online.
    a2.close();
    await a2.waitForClose();

    await expectToday(
      app,
      {
        RegistUserNumOneDay: 5,
        RegistUserNumTotal: 4,
        LoginTimes: 3,
        LoginUserNum: 2,
        ActiveUserNum: 2,
        C2CUpMsgNum: 4,
        C2CDownMsgNum: 4,
        C2CSendMsgUserNum: 2,
        SendMsgUserNum: 2,
        GroupUpMsgNum: 3,
        // Each message reaches the two other members (a, b and d).
        GroupDownMsgNum: 6,
        GroupSendMsgUserNum: 2,
        GroupSendMsgGroupNum: 1,
        // b and c at creation are no joins; d is.
        GroupJoinGroupTimes: 1,
        GroupQuitGroupTimes: 1,
        GroupNewGroupNum: 2,
        GroupDestroyGroupNum: 1,
        GroupAllGroupNum: 1,
        UpMsgNum: 7,
        DownMsgNum: 10,
        ChainIncrease: 2,
        ChainDecrease: 1,
        MaxOnlineNum: 2,
        CallBackReq: 4,
        CallBackRsp: 0,
        CallbackFailed: 4,
        APNSMsgNum: 0,
      },
      2,
    );

    // Everyone leaves: nobody is online, the day's peak stays.
    await TestClient.closeAll();
    await expectToday(app, { MaxOnlineNum: 2 }, 0);

    // getappinfo: Tencent's names, every value a string, one row per day for 30 days.
    const info = await app.rest("openconfigsvr/getappinfo", {});
    expect(info.body.ErrorCode).toBe(0);
    const rows = info.body.Result as Record<string, string>[];
    expect(rows).toHaveLength(30);
    expect(Object.keys(rows[0]!)).toEqual([...appInfoFields]);
    expect(rows[0]).toMatchObject({ Date: String(dayOf(Date.now())), AppId: String(app.sdkAppId), C2CUpMsgNum: "4", GroupUpMsgNum: "3", RegistUserNumTotal: "4", GroupAllGroupNum: "1" });
    // Before today nothing existed: totals step back to 0.
    expect(rows[1]).toMatchObject({ RegistUserNumTotal: "0", GroupAllGroupNum: "0", C2CUpMsgNum: "0" });
    for (const row of rows) for (const value of Object.values(row)) expect(typeof value).toBe("string");
  });

  it("give a real-time view: figures per minute for the last minutes, and the users online now", { timeout: 30_000 }, async () => {
    const { app, ids } = await appWithUsers(2);
    const [a, b] = ids as [string, string];
    await TestClient.connect(app, a);
    for (let i = 0; i < 3; i++) expect((await sendText(app, a, b, `now ${i}`)).body.ErrorCode).toBe(0);
    type Minute = { Minute: number; C2CUpMsgNum: number; LoginTimes: number };
    let answer: { OnlineNum: number; Minutes: Minute[] } | undefined;
    await expect
      .poll(
        async () => {
          answer = (await app.rest("edgeim_ops_svc/get_realtime_stats", { Minutes: 5 })).body as unknown as typeof answer;
          const sum = (f: "C2CUpMsgNum" | "LoginTimes") => answer!.Minutes.reduce((n, m) => n + m[f], 0);
          return { online: answer!.OnlineNum, messages: sum("C2CUpMsgNum"), logins: sum("LoginTimes") };
        },
        { timeout: 20_000, interval: 500 },
      )
      .toEqual({ online: 1, messages: 3, logins: 1 });
    const minutes = answer!.Minutes.map((m) => m.Minute);
    expect(minutes).toHaveLength(5);
    expect(minutes.at(-1)).toBe(Math.floor(Date.now() / 60_000) * 60);
    for (let i = 1; i < minutes.length; i++) expect(minutes[i]! - minutes[i - 1]!).toBe(60);
    expect((await app.rest("edgeim_ops_svc/get_realtime_stats", { Minutes: 1441 })).body.ErrorCode).toBe(60003);
  });

  it("answers only the fields asked for, and refuses a field Tencent does not name", async () => {
    const app = await anApp();
    const some = await app.rest("openconfigsvr/getappinfo", { RequestField: ["LoginTimes", "Date"] });
    expect(some.body.ErrorCode).toBe(0);
    expect(Object.keys((some.body.Result as object[])[0]!)).toEqual(["LoginTimes", "Date"]);
    const bad = await app.rest("openconfigsvr/getappinfo", { RequestField: ["Secret"] });
    expect(bad.body).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 90001 });
    expect(bad.body.ErrorInfo).toContain("RequestField");
  });

  it("cost one SQLite row per one-to-one message in the sender's actor and one per group message in the group", async () => {
    const { app, ids } = await appWithUsers(2);
    const [a, b] = ids as [string, string];
    const sender = userActor(env, { sdkAppId: app.sdkAppId, userId: a });
    const written = () => runInDurableObject(sender, (actor: UserActor) => actor.stats.counters.usage.rowsWritten);
    await sendText(app, a, b, "warm up");
    const before = await written();
    for (let i = 0; i < 10; i++) await sendText(app, a, b, `m${i}`);
    expect((await written()) - before).toBe(10);
    // The recipient writes none.
    expect(await runInDurableObject(userActor(env, { sdkAppId: app.sdkAppId, userId: b }), (actor: UserActor) => actor.stats.counters.usage.rowsWritten)).toBe(0);

    const created = await app.rest("group_open_http_svc/create_group", { Type: "Private", Name: "cost", Owner_Account: a, MemberList: [{ Member_Account: b }] });
    const groupId = created.body.GroupId as string;
    const group = groupActor(env, { sdkAppId: app.sdkAppId, groupId });
    const groupWritten = () => runInDurableObject(group, (actor: GroupActor) => actor.stats.counters.usage.rowsWritten);
    const groupBefore = await groupWritten();
    for (let i = 0; i < 10; i++) await app.rest("group_open_http_svc/send_group_msg", { GroupId: groupId, Random: aRandom(), MsgBody: text(`g${i}`) });
    expect((await groupWritten()) - groupBefore).toBe(10);
  });
});
