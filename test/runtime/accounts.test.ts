import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AppCache } from "../../src/actors/appCache.ts";
import { userActor } from "../../src/actors/refs.ts";
import { TestClient } from "./clients.ts";
import { anApp, aUserId, type TestApp } from "./helpers.ts";

async function statusOf(app: TestApp, ...ids: string[]): Promise<Record<string, string>> {
  const answer = await app.rest("im_open_login_svc/account_check", { CheckItem: ids.map((UserID) => ({ UserID })) });
  expect(answer.body.ErrorCode).toBe(0);
  const items = answer.body.ResultItem as { UserID: string; AccountStatus: string; ResultCode: number }[];
  return Object.fromEntries(items.map((i) => [i.UserID, i.AccountStatus]));
}

/** Nick and Image as portrait_get reports them. */
async function profileOf(app: TestApp, id: string): Promise<{ nick?: unknown; face_url?: unknown }> {
  const answer = await app.rest("profile/portrait_get", { To_Account: [id], TagList: ["Tag_Profile_IM_Nick", "Tag_Profile_IM_Image"] });
  const items = (answer.body.UserProfileItem as { ProfileItem: { Tag: string; Value: unknown }[] }[])[0]!.ProfileItem;
  const value = (tag: string) => items.find((i) => i.Tag === tag)?.Value;
  return { nick: value("Tag_Profile_IM_Nick"), face_url: value("Tag_Profile_IM_Image") };
}

/** Logs in over the WebSocket door as a client would; answers the login's code. */
async function authenticate(app: TestApp, identifier: string, userSig?: string): Promise<{ ok: boolean; code: number }> {
  const client = await TestClient.connect(app, identifier, { userSig: userSig ?? (await app.sig(identifier)) });
  const code = client.loginResponse!.code;
  client.close();
  return { ok: code === 0, code };
}

describe("account_import", () => {
  it("imports an account that account_check then reports as Imported", async () => {
    const app = await anApp();
    const id = aUserId();
    const answer = await app.rest("im_open_login_svc/account_import", { UserID: id, Nick: "Alice", FaceUrl: "https://img.example/a.png" });
    expect(answer.body).toEqual({ ActionStatus: "OK", ErrorInfo: "", ErrorCode: 0 });
    expect(await statusOf(app, id)).toEqual({ [id]: "Imported" });
  });

  it("makes Nick and FaceUrl the profile's Nick and Image", async () => {
    const app = await anApp();
    const id = aUserId();
    await app.rest("im_open_login_svc/account_import", { UserID: id, Nick: "Ålice 🌸", FaceUrl: "https://img.example/a.png" });
    const row = await profileOf(app, id);
    expect(row).toEqual({ nick: "Ålice 🌸", face_url: "https://img.example/a.png" });
  });

  it("is not an error the second time, and keeps fields not given again", async () => {
    const app = await anApp();
    const id = aUserId();
    await app.rest("im_open_login_svc/account_import", { UserID: id, Nick: "First", FaceUrl: "https://img.example/1.png" });
    const again = await app.rest("im_open_login_svc/account_import", { UserID: id, Nick: "Second" });
    expect(again.body.ErrorCode).toBe(0);
    const row = await profileOf(app, id);
    expect(row).toEqual({ nick: "Second", face_url: "https://img.example/1.png" });
  });

  it("takes an empty Nick or FaceUrl as not given, keeping what was imported before", async () => {
    const app = await anApp();
    const id = aUserId();
    await app.rest("im_open_login_svc/account_import", { UserID: id, Nick: "First", FaceUrl: "https://img.example/1.png" });
    expect((await app.rest("im_open_login_svc/account_import", { UserID: id, Nick: "", FaceUrl: "" })).body.ErrorCode).toBe(0);
    expect(await profileOf(app, id)).toEqual({ nick: "First", face_url: "https://img.example/1.png" });
  });

  it("accepts the legacy Identifier field", async () => {
    const app = await anApp();
    const id = aUserId();
    expect((await app.rest("im_open_login_svc/account_import", { Identifier: id })).body.ErrorCode).toBe(0);
    expect(await statusOf(app, id)).toEqual({ [id]: "Imported" });
  });

  it.each([
    ["no UserID", {}],
    ["an empty UserID", { UserID: "" }],
    ["a UserID over 32 bytes", { UserID: "x".repeat(33) }],
    ["a UserID with a space", { UserID: "a b" }],
    ["a numeric UserID", { UserID: 1234 }],
    ["a Nick over 500 bytes", { UserID: "ok", Nick: "字".repeat(200) }],
    ["a FaceUrl that is not a string", { UserID: "ok", FaceUrl: 7 }],
  ])("rejects %s with 70402 and imports nothing", async (_name, body) => {
    const app = await anApp();
    const answer = await app.rest("im_open_login_svc/account_import", body);
    expect(answer.body.ErrorCode).toBe(70402);
    const { count } = (await env.DB.prepare("SELECT COUNT(*) AS count FROM accounts WHERE sdkappid = ?").bind(app.sdkAppId).first<{ count: number }>())!;
    expect(count).toBe(0);
    expect((await app.rest("profile/portrait_get", { To_Account: ["ok"] })).body.Fail_Account).toEqual(["ok"]);
  });
});

describe("multiaccount_import", () => {
  it("imports the valid accounts and lists the rest in FailAccounts", async () => {
    const app = await anApp();
    const good = [aUserId(), aUserId(), aUserId()];
    const answer = await app.rest("im_open_login_svc/multiaccount_import", { Accounts: [good[0], "bad id", good[1], "", good[2], good[0]] });
    expect(answer.body).toMatchObject({ ActionStatus: "OK", ErrorCode: 0, FailAccounts: ["bad id", ""] });
    expect(await statusOf(app, ...good)).toEqual(Object.fromEntries(good.map((id) => [id, "Imported"])));
  });

  it("answers an empty FailAccounts when all succeed", async () => {
    const app = await anApp();
    const answer = await app.rest("im_open_login_svc/multiaccount_import", { Accounts: [aUserId()] });
    expect(answer.body.FailAccounts).toEqual([]);
  });

  it("takes 100 accounts in one call and refuses 101", async () => {
    const app = await anApp();
    const hundred = Array.from({ length: 100 }, () => aUserId());
    expect((await app.rest("im_open_login_svc/multiaccount_import", { Accounts: hundred })).body.ErrorCode).toBe(0);
    expect(Object.values(await statusOf(app, ...hundred)).every((s) => s === "Imported")).toBe(true);
    const tooMany = await app.rest("im_open_login_svc/multiaccount_import", { Accounts: [...hundred, aUserId()] });
    expect(tooMany.body.ErrorCode).toBe(70402);
    expect(tooMany.body.ErrorInfo).toMatch(/^Accounts: /);
  });

  it("rejects items that are not strings with 70402 naming the item", async () => {
    const app = await anApp();
    const answer = await app.rest("im_open_login_svc/multiaccount_import", { Accounts: ["ok", 5] });
    expect(answer.body.ErrorCode).toBe(70402);
    expect(answer.body.ErrorInfo).toMatch(/^Accounts\[1\]: /);
  });
});

describe("account_check", () => {
  it("reports Imported and NotImported per account, in the order asked", async () => {
    const app = await anApp();
    const id = aUserId();
    await app.rest("im_open_login_svc/account_import", { UserID: id });
    const answer = await app.rest("im_open_login_svc/account_check", { CheckItem: [{ UserID: "ghost" }, { UserID: id }] });
    expect(answer.body.ResultItem).toEqual([
      { UserID: "ghost", ResultCode: 0, ResultInfo: "", AccountStatus: "NotImported" },
      { UserID: id, ResultCode: 0, ResultInfo: "", AccountStatus: "Imported" },
    ]);
  });

  it("counts the app's admins as imported", async () => {
    const app = await anApp();
    expect(await statusOf(app, app.admin)).toEqual({ [app.admin]: "Imported" });
  });
});

describe("account_delete", () => {
  it("deletes accounts and reports each", async () => {
    const app = await anApp();
    const [a, b] = [aUserId(), aUserId()];
    await app.rest("im_open_login_svc/multiaccount_import", { Accounts: [a, b] });
    const answer = await app.rest("im_open_login_svc/account_delete", { DeleteItem: [{ UserID: a }, { UserID: "ghost" }] });
    expect(answer.body.ResultItem).toEqual([
      { ResultCode: 0, ResultInfo: "", UserID: a },
      { ResultCode: 70107, ResultInfo: "account does not exist", UserID: "ghost" },
    ]);
    expect(await statusOf(app, a, b)).toEqual({ [a]: "NotImported", [b]: "Imported" });
  });

  it("will not delete an app admin", async () => {
    const app = await anApp();
    const answer = await app.rest("im_open_login_svc/account_delete", { DeleteItem: [{ UserID: app.admin }] });
    expect(answer.body.ResultItem).toEqual([expect.objectContaining({ UserID: app.admin, ResultCode: 70402 })]);
    expect((await app.rest("im_open_login_svc/account_check", { CheckItem: [{ UserID: "x" }] })).body.ErrorCode).toBe(0);
  });

  it("stops the account's UserSig from logging in", async () => {
    const app = await anApp();
    const id = aUserId();
    await app.rest("im_open_login_svc/account_import", { UserID: id });
    const userSig = await app.sig(id);
    expect(await authenticate(app, id, userSig)).toMatchObject({ ok: true });
    await app.rest("im_open_login_svc/account_delete", { DeleteItem: [{ UserID: id }] });
    expect(await authenticate(app, id, userSig)).toMatchObject({ ok: false, code: 70107 });
  });

  it("can be imported again afterwards", async () => {
    const app = await anApp();
    const id = aUserId();
    await app.rest("im_open_login_svc/account_import", { UserID: id });
    await app.rest("im_open_login_svc/account_delete", { DeleteItem: [{ UserID: id }] });
    await app.rest("im_open_login_svc/account_import", { UserID: id });
    expect(await statusOf(app, id)).toEqual({ [id]: "Imported" });
  });

  it("leaves nothing in memory that answers for the re-imported account's sends", async () => {
    const app = await anApp();
    const [id, peer] = [aUserId(), aUserId()];
    await app.rest("im_open_login_svc/multiaccount_import", { Accounts: [id, peer] });
    const message = { From_Account: id, To_Account: peer, MsgRandom: 4242, MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: "hello" } }] };
    await app.rest("openim/sendmsg", message);
    await app.rest("im_open_login_svc/account_delete", { DeleteItem: [{ UserID: id }] });
    await app.rest("im_open_login_svc/account_import", { UserID: id });
    // The same send again within the dedupe window: it is delivered (the recipient keeps one copy)
    // and stored for the new account, not answered from what the deleted account's actor remembered.
    expect((await app.rest("openim/sendmsg", message)).body.ErrorCode).toBe(0);
    const roam = await app.rest("openim/admin_getroammsg", { Operator_Account: id, Peer_Account: peer, MaxCnt: 10 });
    expect((roam.body.MsgList as { MsgBody: unknown }[]).map((m) => m.MsgBody)).toEqual([message.MsgBody]);
    const theirs = await app.rest("openim/admin_getroammsg", { Operator_Account: peer, Peer_Account: id, MaxCnt: 10 });
    expect(theirs.body.MsgCnt).toBe(1);
  });
});

describe("user login", () => {
  it("is refused when the app was disabled after the connection opened (60016), then closed with 4001", async () => {
    const app = await anApp();
    const id = aUserId();
    await app.rest("im_open_login_svc/account_import", { UserID: id });
    const client = await TestClient.connect(app, id, { noLogin: true });
    await env.APP.get(env.APP.idFromName(String(app.sdkAppId))).configure(app.sdkAppId, { status: "disabled" });
    // The user's actor holds the app for up to a minute; a fresh look sees it disabled.
    await runInDurableObject(userActor(env, { sdkAppId: app.sdkAppId, userId: id }), (actor) => (actor as unknown as { apps: AppCache }).apps.forget());
    expect((await client.request("login", { userSig: await app.sig(id) })).code).toBe(60016);
    expect((await client.waitForClose()).code).toBe(4001);
  });

  it("refuses an account that was never imported (70107)", async () => {
    const app = await anApp();
    expect(await authenticate(app, aUserId())).toMatchObject({ ok: false, code: 70107 });
  });
});

describe("tenant isolation", () => {
  it("keeps one app's accounts out of another app's sight", async () => {
    const a = await anApp();
    const b = await anApp();
    const id = aUserId();
    await a.rest("im_open_login_svc/account_import", { UserID: id });
    expect(await statusOf(a, id)).toEqual({ [id]: "Imported" });
    expect(await statusOf(b, id)).toEqual({ [id]: "NotImported" });
  });

  it("does not let app B delete app A's account of the same name", async () => {
    const a = await anApp();
    const b = await anApp();
    const id = aUserId();
    await a.rest("im_open_login_svc/account_import", { UserID: id });
    await b.rest("im_open_login_svc/account_import", { UserID: id });
    await b.rest("im_open_login_svc/account_delete", { DeleteItem: [{ UserID: id }] });
    expect(await statusOf(a, id)).toEqual({ [id]: "Imported" });
    expect(await statusOf(b, id)).toEqual({ [id]: "NotImported" });
  });

  it("refuses an admin of app A calling with app B's sdkappid, even with the same admin name", async () => {
    const a = await anApp({ admins: ["admin"] });
    const b = await anApp({ admins: ["admin"] });
    const answer = await b.rest("im_open_login_svc/account_check", { CheckItem: [{ UserID: "x" }] }, { userSig: await a.sig("admin") });
    expect(answer.body.ErrorCode).toBe(70014);
  });

  it("does not let a user of app A log in to app B", async () => {
    const a = await anApp();
    const b = await anApp();
    const id = aUserId();
    await a.rest("im_open_login_svc/account_import", { UserID: id });
    expect(await authenticate(b, id, await a.sig(id))).toMatchObject({ ok: false, code: 70014 });
  });
});
