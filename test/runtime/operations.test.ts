/** Operations: a user's global mute, the app's sensitive words, and its REST call log. */
import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { groupActor, userActor } from "../../src/actors/refs.ts";
import type { GroupActor } from "../../src/actors/GroupActor.ts";
import type { UserActor } from "../../src/actors/UserActor.ts";
import { aRandom, TestClient, text } from "./clients.ts";
import { appWithUsers, type TestApp } from "./helpers.ts";

afterEach(() => TestClient.closeAll());

const sendText = (app: TestApp, from: string, to: string, t: string) =>
  app.rest("openim/sendmsg", { From_Account: from, To_Account: to, MsgRandom: aRandom(), MsgBody: text(t) });

async function aGroupOf(app: TestApp, owner: string, members: string[]): Promise<string> {
  const created = await app.rest("group_open_http_svc/create_group", { Type: "Private", Name: "ops", Owner_Account: owner, MemberList: members.map((m) => ({ Member_Account: m })) });
  expect(created.body.ErrorCode).toBe(0);
  return created.body.GroupId as string;
}

/** The app's cached settings in these actors are dropped, as they are when the cache's minute ends. */
async function cacheExpires(app: TestApp, users: string[], groups: string[] = []): Promise<void> {
  for (const userId of users) {
    await runInDurableObject(userActor(env, { sdkAppId: app.sdkAppId, userId }), (actor: UserActor) => (actor as unknown as { apps: { forget(): void } }).apps.forget());
  }
  for (const groupId of groups) {
    await runInDurableObject(groupActor(env, { sdkAppId: app.sdkAppId, groupId }), (actor: GroupActor) => (actor as unknown as { apps: { forget(): void } }).apps.forget());
  }
}

describe("Global mute (openconfigsvr/setnospeaking)", () => {
  it("stops a muted user's one-to-one sends with 20012, from REST and from its devices, until it is lifted", async () => {
    const { app, ids } = await appWithUsers(2);
    const [a, b] = ids as [string, string];
    const device = await TestClient.connect(app, a);
    expect((await app.rest("openconfigsvr/setnospeaking", { Set_Account: a, C2CmsgNospeakingTime: 600 })).body.ErrorCode).toBe(0);

    expect((await sendText(app, a, b, "from REST")).body.ErrorCode).toBe(20012);
    expect((await device.request("sendMessage", { to: b, random: aRandom(), body: text("from a device") })).code).toBe(20012);
    // Only one-to-one is muted: b may still write to a.
    expect((await sendText(app, b, a, "to the muted one")).body.ErrorCode).toBe(0);

    const got = await app.rest("openconfigsvr/getnospeaking", { Get_Account: a });
    expect(got.body).toMatchObject({ ErrorCode: 0, GroupmsgNospeakingTime: 0 });
    expect(got.body.C2CmsgNospeakingTime).toBeGreaterThan(590);
    expect(got.body.C2CmsgNospeakingTime).toBeLessThanOrEqual(600);

    expect((await app.rest("openconfigsvr/setnospeaking", { Set_Account: a, C2CmsgNospeakingTime: 0 })).body.ErrorCode).toBe(0);
    expect((await sendText(app, a, b, "free again")).body.ErrorCode).toBe(0);
    expect((await device.request("sendMessage", { to: b, random: aRandom(), body: text("and here") })).code).toBe(0);
  });

  it("stops a muted user's group sends with 10017, from REST and from its devices, and survives the actor's restart", async () => {
    const { app, ids } = await appWithUsers(2);
    const [a, b] = ids as [string, string];
    const groupId = await aGroupOf(app, a, [b]);
    expect((await app.rest("openconfigsvr/setnospeaking", { Set_Account: b, GroupmsgNospeakingTime: 4294967295 })).body.ErrorCode).toBe(0);
    expect((await app.rest("openconfigsvr/getnospeaking", { Get_Account: b })).body).toMatchObject({ C2CmsgNospeakingTime: 0, GroupmsgNospeakingTime: 4294967295 });

    const rest = await app.rest("group_open_http_svc/send_group_msg", { GroupId: groupId, From_Account: b, Random: aRandom(), MsgBody: text("x") });
    expect(rest.body.ErrorCode).toBe(10017);
    const device = await TestClient.connect(app, b);
    expect((await device.request("sendGroupMessage", { groupID: groupId, random: aRandom(), body: text("x") })).code).toBe(10017);
    // One-to-one is not muted for b; the group's own members still talk.
    expect((await sendText(app, b, a, "hi")).body.ErrorCode).toBe(0);
    expect((await app.rest("group_open_http_svc/send_group_msg", { GroupId: groupId, From_Account: a, Random: aRandom(), MsgBody: text("ok") })).body.ErrorCode).toBe(0);
    // Nothing of b's is in the group.
    const history = await app.rest("group_open_http_svc/group_msg_get_simple", { GroupId: groupId, ReqMsgNumber: 20 });
    expect((history.body.RspMsgList as { From_Account: string }[]).map((m) => m.From_Account)).toEqual([a]);
  });

  it("refuses an account that does not exist and a time out of range, changing nothing", async () => {
    const { app, ids } = await appWithUsers(1);
    expect((await app.rest("openconfigsvr/setnospeaking", { Set_Account: "nobody_here", C2CmsgNospeakingTime: 10 })).body.ErrorCode).toBe(70107);
    const bad = await app.rest("openconfigsvr/setnospeaking", { Set_Account: ids[0], C2CmsgNospeakingTime: -1 });
    expect(bad.body).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 90001 });
    expect(bad.body.ErrorInfo).toContain("C2CmsgNospeakingTime");
    expect((await app.rest("openconfigsvr/getnospeaking", { Get_Account: ids[0] })).body).toMatchObject({ C2CmsgNospeakingTime: 0, GroupmsgNospeakingTime: 0 });
    expect((await app.rest("openconfigsvr/setnospeaking", { Set_Account: ids[0], C2CmsgNospeakingTime: 10 }, { as: "not_admin" })).body.ErrorCode).toBe(60010);
  });
});

describe("Sensitive words (openim_dirty_words)", () => {
  it("refuse one-to-one and group messages containing one with 80001, from REST and from devices", async () => {
    const { app, ids } = await appWithUsers(2);
    const [a, b] = ids as [string, string];
    const groupId = await aGroupOf(app, a, [b]);
    const device = await TestClient.connect(app, a);
    expect((await app.rest("openim_dirty_words/add", { DirtyWordsList: ["Badword", "spam link"] })).body.ErrorCode).toBe(0);
    expect((await app.rest("openim_dirty_words/get", {})).body.DirtyWordsList).toEqual(["Badword", "spam link"]);
    await cacheExpires(app, [a, b], [groupId]);

    expect((await sendText(app, a, b, "this has a BADWORD in it")).body.ErrorCode).toBe(80001);
    expect((await device.request("sendMessage", { to: b, random: aRandom(), body: text("a spam link here") })).code).toBe(80001);
    expect((await app.rest("group_open_http_svc/send_group_msg", { GroupId: groupId, Random: aRandom(), MsgBody: text("badword") })).body.ErrorCode).toBe(80001);
    expect((await device.request("sendGroupMessage", { groupID: groupId, random: aRandom(), body: text("badword!") })).code).toBe(80001);
    expect((await sendText(app, a, b, "a clean message")).body.ErrorCode).toBe(0);

    // Deleted, the word passes again once the actors' app cache renews.
    expect((await app.rest("openim_dirty_words/delete", { DirtyWordsList: ["badword"] })).body.ErrorCode).toBe(0);
    expect((await app.rest("openim_dirty_words/get", {})).body.DirtyWordsList).toEqual(["spam link"]);
    await cacheExpires(app, [a, b], [groupId]);
    expect((await sendText(app, a, b, "badword")).body.ErrorCode).toBe(0);
    expect((await device.request("sendGroupMessage", { groupID: groupId, random: aRandom(), body: text("badword") })).code).toBe(0);
  });

  it("refuses lists that are empty, too long or with words over 200 bytes, changing nothing", async () => {
    const { app } = await appWithUsers(1);
    await app.rest("openim_dirty_words/add", { DirtyWordsList: ["kept"] });
    for (const list of [[], Array.from({ length: 51 }, (_, i) => `w${i}`), ["x".repeat(201)], [""], [42]]) {
      const answer = await app.rest("openim_dirty_words/add", { DirtyWordsList: list });
      expect(answer.body, JSON.stringify(list).slice(0, 40)).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 90001 });
    }
    expect((await app.rest("openim_dirty_words/get", {})).body.DirtyWordsList).toEqual(["kept"]);
  });

  it("refuses through set_app_settings the words add refuses, so no blank word can block every message", async () => {
    const { app, ids } = await appWithUsers(2);
    const [a, b] = ids as [string, string];
    await app.rest("openim_dirty_words/add", { DirtyWordsList: ["kept"] });
    for (const words of [[""], [" "], ["\u200b"], ["x".repeat(201)], [7]]) {
      const answer = await app.rest("edgeim_admin_svc/set_app_settings", { Settings: { dirtyWords: words } });
      expect(answer.body, JSON.stringify(words).slice(0, 20)).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 60003 });
      expect(answer.body.ErrorInfo).toMatch(/^Settings\.dirtyWords/);
    }
    expect((await app.rest("openim_dirty_words/add", { DirtyWordsList: ["\u200b\u00ad"] })).body.ErrorCode).toBe(90001);
    expect((await app.rest("openim_dirty_words/get", {})).body.DirtyWordsList).toEqual(["kept"]);
    await cacheExpires(app, [a]);
    expect((await sendText(app, a, b, "hello there")).body.ErrorCode).toBe(0);
  });

  it("find a word however it is spelt: full-width, with invisible characters, ligatures, or another case form", async () => {
    const { app, ids } = await appWithUsers(2);
    const [a, b] = ids as [string, string];
    expect((await app.rest("openim_dirty_words/add", { DirtyWordsList: ["badword", "Straße", "filter"] })).body.ErrorCode).toBe(0);
    await cacheExpires(app, [a]);
    for (const t of ["ＢＡＤＷＯＲＤ", "bad\u200bword", "BAD\u00adWORD", "STRASSE", "no \ufb01lter here"]) {
      expect((await sendText(app, a, b, t)).body.ErrorCode, JSON.stringify(t)).toBe(80001);
    }
    expect((await sendText(app, a, b, "a clean word")).body.ErrorCode).toBe(0);
    // The same word spelt otherwise is the same word: neither added twice nor left behind by delete.
    expect((await app.rest("openim_dirty_words/add", { DirtyWordsList: ["ＢＡＤＷＯＲＤ"] })).body.ErrorCode).toBe(0);
    expect((await app.rest("openim_dirty_words/get", {})).body.DirtyWordsList).toEqual(["badword", "Straße", "filter"]);
    expect((await app.rest("openim_dirty_words/delete", { DirtyWordsList: ["STRASSE"] })).body.ErrorCode).toBe(0);
    expect((await app.rest("openim_dirty_words/get", {})).body.DirtyWordsList).toEqual(["badword", "filter"]);
  });

  it("check a text of hostile combining marks in linear time, answering at once", async () => {
    const { app, ids } = await appWithUsers(2);
    const [a, b] = ids as [string, string];
    expect((await app.rest("openim_dirty_words/add", { DirtyWordsList: ["badword"] })).body.ErrorCode).toBe(0);
    await cacheExpires(app, [a]);
    const groupId = await aGroupOf(app, a, [b]);
    await cacheExpires(app, [a], [groupId]);
    const hostile = `a${"\u0301".repeat(150_000)}${"\u0316".repeat(150_000)}`;
    const device = await TestClient.connect(app, a);
    for (const [what, send] of [
      ["sendmsg", () => sendText(app, a, b, hostile).then((r) => r.body.ErrorCode)],
      ["send_group_msg", () => app.rest("group_open_http_svc/send_group_msg", { GroupId: groupId, From_Account: a, Random: aRandom(), MsgBody: text(hostile) }).then((r) => r.body.ErrorCode)],
      ["sendGroupMessage", () => device.request("sendGroupMessage", { groupID: groupId, random: aRandom(), body: text(hostile.slice(0, 30_000)) }).then((r) => r.code)],
    ] as const) {
      const started = Date.now();
      const code = await send();
      expect(code, what).not.toBe(0);
      expect(Date.now() - started, what).toBeLessThan(2000);
    }
  });

  it("holds at most 1,000 words per app", async () => {
    const { app } = await appWithUsers(1);
    for (let i = 0; i < 20; i++) {
      const batch = Array.from({ length: 50 }, (_, j) => `word${i * 50 + j}`);
      expect((await app.rest("openim_dirty_words/add", { DirtyWordsList: batch })).body.ErrorCode).toBe(0);
    }
    const over = await app.rest("openim_dirty_words/add", { DirtyWordsList: ["one more"] });
    expect(over.body).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 90001 });
    expect(((await app.rest("openim_dirty_words/get", {})).body.DirtyWordsList as string[]).length).toBe(1000);
  });
});

describe("The app's REST call log (edgeim_ops_svc/get_rest_log)", () => {
  it("lists the latest calls with command, caller, code, time and duration, never bodies or signatures", async () => {
    const { app, ids } = await appWithUsers(2);
    const started = Date.now();
    await sendText(app, ids[0]!, ids[1]!, "secret body text");
    await app.rest("openim/sendmsg", { From_Account: ids[0], To_Account: "nobody_here", MsgRandom: 1, MsgBody: text("x") });
    await app.rest("openconfigsvr/getnospeaking", { Get_Account: ids[0] }, { as: "intruder" });
    let calls: Record<string, unknown>[] = [];
    await expect
      .poll(async () => {
        // Calls reach the log about a second after their answers, these reads among them.
        const answer = await app.rest("edgeim_ops_svc/get_rest_log", { Limit: 50 });
        calls = (answer.body.Calls as Record<string, unknown>[]).filter((c) => c.Command !== "edgeim_ops_svc/get_rest_log").slice(0, 3);
        return calls.map((c) => [c.Command, c.Caller, c.ErrorCode]);
      }, { timeout: 5_000, interval: 250 })
      .toEqual([
        ["openconfigsvr/getnospeaking", "intruder", 60010],
        ["openim/sendmsg", app.admin, 90012],
        ["openim/sendmsg", app.admin, 0],
      ]);
    for (const call of calls) {
      expect(call.TimeMs as number).toBeGreaterThanOrEqual(started);
      expect(call.Ms as number).toBeGreaterThanOrEqual(0);
    }
    const everything = JSON.stringify((await app.rest("edgeim_ops_svc/get_rest_log", { Limit: 1000 })).body);
    expect(everything).not.toContain("secret body text");
    expect(everything).not.toContain(await app.sig());

    // Pages go back in time.
    const first = await app.rest("edgeim_ops_svc/get_rest_log", { Limit: 2 });
    const next = await app.rest("edgeim_ops_svc/get_rest_log", { Limit: 2, Before: first.body.Next });
    const ids1 = (first.body.Calls as { Id: number }[]).map((c) => c.Id);
    const ids2 = (next.body.Calls as { Id: number }[]).map((c) => c.Id);
    expect(Math.min(...ids1)).toBeGreaterThan(Math.max(...ids2));
  });

  it("keeps the last 1,000 calls", async () => {
    const { app } = await appWithUsers(1);
    const actor = env.APP.get(env.APP.idFromName(String(app.sdkAppId)));
    for (let b = 0; b < 23; b++) await actor.recordRestCalls(Array.from({ length: 50 }, (_, j) => ({ command: "openim/sendmsg", caller: "admin", code: 0, at: Date.now(), ms: b * 50 + j })));
    const log = await actor.restLog(1000);
    expect(log).toHaveLength(1000);
    expect(log[0]!.ms).toBe(1149);
    expect(log.at(-1)!.ms).toBe(150);
    const rows = await runInDurableObject(actor, (_a, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM rest_log").one().n);
    expect(rows).toBeLessThanOrEqual(1100);
  });
});
