import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { userActor } from "../../src/actors/refs.ts";
import { TestClient } from "./clients.ts";
import { anApp, defaultApp, twoUsers } from "./helpers.ts";

describe("edgeim_admin_svc: the app itself", () => {
  it("answers the app without its keys", async () => {
    const app = await anApp({ name: "shop" });
    const got = await app.rest("edgeim_admin_svc/get_app", {});
    expect(got.body).toMatchObject({ ErrorCode: 0, SdkAppId: app.sdkAppId, Name: "shop", Admins: ["admin"], Status: "Active" });
    expect((got.body.Settings as Record<string, unknown>).recallWindowSeconds).toBe(120);
    expect(JSON.stringify(got.body)).not.toContain(app.secretKey);
  });

  it("changes settings field by field, applied at once", async () => {
    const app = await anApp();
    const set = await app.rest("edgeim_admin_svc/set_app_settings", {
      Settings: { recallWindowSeconds: 600, requireFriendship: true, groups: { maxMembers: { Public: 50 } }, profileCustomTags: ["Tag_Profile_Custom_Hobby"] },
    });
    expect(set.body.ErrorCode).toBe(0);
    const settings = (await app.rest("edgeim_admin_svc/get_app", {})).body.Settings as Record<string, any>;
    expect(settings).toMatchObject({ recallWindowSeconds: 600, requireFriendship: true, retentionDays: 30, profileCustomTags: ["Tag_Profile_Custom_Hobby"] });
    expect(settings.groups.maxMembers).toEqual({ Private: 6000, Public: 50, ChatRoom: 6000, Community: 100000 });
    // The custom tag is usable at once.
    await app.rest("im_open_login_svc/account_import", { UserID: "dora" });
    const tagged = await app.rest("profile/portrait_set", { From_Account: "dora", ProfileItem: [{ Tag: "Tag_Profile_Custom_Hobby", Value: "chess" }] });
    expect(tagged.body.ErrorCode).toBe(0);
  });

  it("keeps the callbacks and their token when other settings change", async () => {
    const app = await anApp();
    const set = await app.rest("edgeim_admin_svc/set_callback", { CallbackUrl: "https://hooks.example.com/im", CallbackCommands: "*", Token: "s3cret" });
    expect(set.body.ErrorCode).toBe(0);
    expect((await app.rest("edgeim_admin_svc/set_app_settings", { Settings: { recallWindowSeconds: 300 } })).body.ErrorCode).toBe(0);
    const got = await app.rest("edgeim_admin_svc/get_callback", {});
    expect(got.body).toMatchObject({ CallbackUrl: "https://hooks.example.com/im", CallbackCommands: "*", HasToken: true });
  });

  it("refuses settings out of range, of the wrong type or unknown, naming them, and changes nothing", async () => {
    const app = await anApp();
    const cases: [unknown, string][] = [
      [{ recallWindowSeconds: -1 }, "Settings.recallWindowSeconds"],
      [{ retentionDays: 5000 }, "Settings.retentionDays"],
      [{ loginPolicy: { mobile: 9 } }, "Settings.loginPolicy.mobile"],
      [{ requireFriendship: "yes" }, "Settings.requireFriendship"],
      [{ profileCustomTags: ["Nickname"] }, "Settings.profileCustomTags[0]"],
      [{ recallWindow: 10 }, "Settings.recallWindow: no such setting"],
      [{ groups: { maxMember: 10 } }, "Settings.groups.maxMember: no such setting"],
      [{ callbacks: {} }, "Settings.callbacks: set them with edgeim_admin_svc/set_callback"],
    ];
    for (const [change, info] of cases) {
      const answer = await app.rest("edgeim_admin_svc/set_app_settings", { Settings: change });
      expect(answer.body, JSON.stringify(change)).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 60003 });
      expect(answer.body.ErrorInfo.startsWith(info), answer.body.ErrorInfo).toBe(true);
    }
    const settings = (await app.rest("edgeim_admin_svc/get_app", {})).body.Settings as Record<string, any>;
    expect(settings).toMatchObject({ recallWindowSeconds: 120, retentionDays: 30, requireFriendship: false, profileCustomTags: [] });
    expect(settings.loginPolicy.mobile).toBe(1);
  });

  it("rotates the secret key: the old key stops at once for REST, the new one works", async () => {
    const app = await anApp();
    const oldSig = await app.sig();
    expect((await app.rest("edgeim_admin_svc/get_app", {}, { userSig: oldSig })).body.ErrorCode).toBe(0);
    const rotated = await app.rest("edgeim_admin_svc/rotate_secret_key", {}, { userSig: oldSig });
    const newKey = rotated.body.SecretKey as string;
    expect(newKey).toMatch(/^[0-9a-f]{64}$/);
    expect(newKey).not.toBe(app.secretKey);
    expect((await app.rest("edgeim_admin_svc/get_app", {}, { userSig: oldSig })).body.ErrorCode).toBe(70009);
    const { generateUserSig } = await import("../../src/domain/usersig.ts");
    const newSig = await generateUserSig({ sdkAppId: app.sdkAppId, secretKey: newKey, identifier: app.admin });
    expect((await app.rest("edgeim_admin_svc/get_app", {}, { userSig: newSig })).body.ErrorCode).toBe(0);
  });

  it("does not rotate the default app's key, which is configuration", async () => {
    const answer = await defaultApp().rest("edgeim_admin_svc/rotate_secret_key", {});
    expect(answer.body).toMatchObject({ ErrorCode: 60002, ErrorInfo: "the default app's key is IM_SECRET_KEY: change it with `wrangler secret put IM_SECRET_KEY`" });
  });

  it("mints a UserSig that logs the user in", async () => {
    const { app, a } = await twoUsers();
    const minted = await app.rest("edgeim_admin_svc/mint_usersig", { UserID: a, Expire: 3600 });
    expect(minted.body).toMatchObject({ ErrorCode: 0, UserID: a });
    const client = await TestClient.connect(app, a, { userSig: minted.body.UserSig as string });
    expect(client.loginResponse?.code).toBe(0);
    expect((await app.rest("edgeim_admin_svc/mint_usersig", { UserID: a, Expire: 10 })).body.ErrorCode).toBe(60003);
  });

  it("disables an app: REST answers 60016 at once, and a connected device is logged out at its next op once its actor's cached app expires", async () => {
    const { app, a } = await twoUsers();
    const client = await TestClient.connect(app, a);
    expect(client.loginResponse?.code).toBe(0);
    expect((await app.rest("edgeim_admin_svc/set_app_status", { Status: "Disabled" })).body.Status).toBe("Disabled");
    expect((await app.rest("im_open_login_svc/account_import", { UserID: "x" })).body.ErrorCode).toBe(60016);

    // As if the user actor's cached minute had passed.
    await runInDurableObject(userActor(env, { sdkAppId: app.sdkAppId, userId: a }), (actor) => (actor as unknown as { apps: { forget(): void } }).apps.forget());
    const answer = await client.request("getConversationList", {});
    expect(answer).toMatchObject({ code: 60016 });
    await client.waitForClose();
    expect(client.closed?.code).toBe(4003);
    expect(client.events.some((e) => e.event === "kickedOut" && (e.data as { reason: string }).reason === "appDisabled")).toBe(true);
  });
});
