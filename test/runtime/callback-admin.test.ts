import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { appActor } from "../../src/actors/refs.ts";
import { anApp } from "./helpers.ts";

describe("edgeim_admin_svc: an app's callback settings", () => {
  it("sets and reads them back, never echoing the token", async () => {
    const app = await anApp();
    const set = await app.rest("edgeim_admin_svc/set_callback", {
      CallbackUrl: "https://backend.example/im",
      CallbackCommands: ["C2C.CallbackBeforeSendMsg"],
      Token: "secret-token",
      TimeoutMs: 1500,
      OnTimeout: "Refuse",
    });
    expect(set.body.ErrorCode).toBe(0);
    const got = await app.rest("edgeim_admin_svc/get_callback", {});
    expect(got.body).toMatchObject({
      ErrorCode: 0,
      CallbackUrl: "https://backend.example/im",
      CallbackCommands: ["C2C.CallbackBeforeSendMsg"],
      HasToken: true,
      TimeoutMs: 1500,
      OnTimeout: "Refuse",
    });
    expect(JSON.stringify(got.body)).not.toContain("secret-token");
  });

  it("keeps the token when a change leaves it out, and turns callbacks off with an empty URL", async () => {
    const app = await anApp();
    await app.rest("edgeim_admin_svc/set_callback", { CallbackUrl: "https://a.example/", CallbackCommands: "*", Token: "t" });
    await app.rest("edgeim_admin_svc/set_callback", { CallbackUrl: "https://b.example/", CallbackCommands: "*" });
    expect((await app.rest("edgeim_admin_svc/get_callback", {})).body).toMatchObject({ CallbackUrl: "https://b.example/", CallbackCommands: "*", HasToken: true });
    await app.rest("edgeim_admin_svc/set_callback", { CallbackUrl: "" });
    expect((await app.rest("edgeim_admin_svc/get_callback", {})).body).toMatchObject({ CallbackUrl: "", HasToken: false });
  });

  it("refuses a URL that is not http(s) or that points at this server, and keeps what was set", async () => {
    const app = await anApp();
    await app.rest("edgeim_admin_svc/set_callback", { CallbackUrl: "https://backend.example/im", CallbackCommands: "*" });
    for (const url of ["ftp://backend.example/im", "not a url", "https://im.example/v4/loop"]) {
      const answer = await app.rest("edgeim_admin_svc/set_callback", { CallbackUrl: url, CallbackCommands: "*" });
      expect(answer.body, url).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 60003 });
    }
    const bad = await app.rest("edgeim_admin_svc/set_callback", { CallbackUrl: "https://backend.example/im", OnTimeout: "Maybe" });
    expect(bad.body.ErrorCode).toBe(60003);
    expect((await app.rest("edgeim_admin_svc/get_callback", {})).body.CallbackUrl).toBe("https://backend.example/im");
  });

  it("refuses a caller that is not an admin of the app", async () => {
    const app = await anApp();
    for (const path of ["edgeim_admin_svc/set_callback", "edgeim_admin_svc/get_callback"]) {
      const answer = await app.rest(path, { CallbackUrl: "https://backend.example/im" }, { as: "someone" });
      expect(answer.body, path).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 60010 });
    }
    expect((await app.rest("edgeim_admin_svc/get_callback", {})).body.CallbackUrl).toBe("");
  });

  it("keeps the token out of the app's view that doors and REST calls are handed; only the callbacks' sender reads it", async () => {
    const app = await anApp();
    await app.rest("edgeim_admin_svc/set_callback", { CallbackUrl: "https://backend.example/im", CallbackCommands: "*", Token: "never-shown-token" });
    const actor = appActor(env, app.sdkAppId);
    const sig = await app.sig();
    const grant = await actor.authorizeRest({ sdkAppId: app.sdkAppId, identifier: app.admin, userSig: sig }, "openim/sendmsg");
    const described = await actor.describe(app.sdkAppId);
    for (const shown of [grant, described]) {
      expect(JSON.stringify(shown)).not.toContain("never-shown-token");
      expect(JSON.stringify(shown)).toContain("https://backend.example/im");
    }
    expect(described?.settings.callbacks?.hasToken).toBe(true);
    expect((await actor.callbackSettings(app.sdkAppId))?.token).toBe("never-shown-token");
    // A change that leaves the token out keeps it, though the REST door never saw it.
    await app.rest("edgeim_admin_svc/set_callback", { CallbackUrl: "https://other.example/im", CallbackCommands: "*" });
    expect(await actor.callbackSettings(app.sdkAppId)).toMatchObject({ url: "https://other.example/im", token: "never-shown-token" });
    await app.rest("edgeim_admin_svc/set_callback", { CallbackUrl: "https://other.example/im", CallbackCommands: "*", Token: "" });
    expect((await actor.callbackSettings(app.sdkAppId))?.token).toBeUndefined();
  });
});
