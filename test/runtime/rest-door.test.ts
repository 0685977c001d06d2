import { env, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { anApp, aUserId, call, defaultApp } from "./helpers.ts";

const check = (userId = "nobody") => ({ CheckItem: [{ UserID: userId }] });

describe("REST door: the envelope", () => {
  it("answers OK with ActionStatus, ErrorInfo and ErrorCode", async () => {
    const answer = await defaultApp().rest("im_open_login_svc/account_check", check());
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ ActionStatus: "OK", ErrorInfo: "", ErrorCode: 0 });
  });

  it("answers every failure with HTTP 200 and FAIL", async () => {
    const answer = await call("/v4/im_open_login_svc/account_check", "{}");
    expect(answer.status).toBe(200);
    expect(answer.body.ActionStatus).toBe("FAIL");
    expect(answer.body.ErrorInfo).not.toBe("");
  });
});

describe("REST door: the URL", () => {
  const app = defaultApp();
  const url = async (q: Record<string, string | undefined>) => {
    const full: Record<string, string | undefined> = {
      sdkappid: String(app.sdkAppId),
      identifier: app.admin,
      usersig: await app.sig(),
      random: "99",
      contenttype: "json",
      ...q,
    };
    return Object.entries(full)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${encodeURIComponent(v!)}`)
      .join("&");
  };
  const codeFor = async (q: Record<string, string | undefined>, body = JSON.stringify(check())) =>
    (await call(`/v4/im_open_login_svc/account_check?${await url(q)}`, body)).body.ErrorCode;

  it("wants sdkappid (60012)", async () => expect(await codeFor({ sdkappid: undefined })).toBe(60012));
  it("wants sdkappid in lower case, as Tencent does (60012)", async () => {
    const q = (await url({})).replace("sdkappid=", "SdkAppId=");
    expect((await call(`/v4/im_open_login_svc/account_check?${q}`, JSON.stringify(check()))).body.ErrorCode).toBe(60012);
  });
  it("rejects a sdkappid that is not a number (60006)", async () => expect(await codeFor({ sdkappid: "14000x" })).toBe(60006));
  it("rejects a sdkappid of no app (60006)", async () => expect(await codeFor({ sdkappid: "1234567" })).toBe(60006));
  it("wants identifier (60004)", async () => expect(await codeFor({ identifier: undefined })).toBe(60004));
  it("wants usersig (60005)", async () => expect(await codeFor({ usersig: undefined })).toBe(60005));
  it("rejects an empty usersig (70002)", async () => expect(await codeFor({ usersig: "" })).toBe(70002));
  it("rejects a garbled usersig (70003)", async () => expect(await codeFor({ usersig: "abc" })).toBe(70003));
  it("rejects a random that is not a uint32 (60002)", async () => expect(await codeFor({ random: "4294967296" })).toBe(60002));
  it("rejects a contenttype other than json (60002)", async () => expect(await codeFor({ contenttype: "xml" })).toBe(60002));
  it("accepts a call without random and contenttype", async () => expect(await codeFor({ random: undefined, contenttype: undefined })).toBe(0));

  it("answers an unknown command with 60009", async () => {
    const answer = await call(`/v4/im_open_login_svc/no_such_command?${await url({})}`, "{}");
    expect(answer.body.ErrorCode).toBe(60009);
  });
  it("answers an unknown service with 60009", async () => {
    const answer = await call(`/v4/no_such_service/account_check?${await url({})}`, "{}");
    expect(answer.body.ErrorCode).toBe(60009);
  });
  it("does not take inherited object keys for commands", async () => {
    const answer = await call(`/v4/im_open_login_svc/constructor?${await url({})}`, "{}");
    expect(answer.body.ErrorCode).toBe(60009);
  });
  it.each(["/v4", "/v4/", "/v4/openim", "/v4/openim/", "/v4/openim/sendmsg/extra", "/v4//openim/sendmsg", "/v4/openim//sendmsg", "/v4/openim/sendmsg/"])(
    "answers %s, which names no command, with 60009 in the envelope",
    async (path) => {
      const answer = await call(`${path}?${await url({})}`, "{}");
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ ActionStatus: "FAIL", ErrorCode: 60009, ErrorInfo: expect.stringContaining("/v4/{service}/{command}") });
    },
  );
  it("wants POST (60002)", async () => {
    const answer = await call(`/v4/im_open_login_svc/account_check?${await url({})}`, undefined, "GET");
    expect(answer.status).toBe(200);
    expect(answer.body.ErrorCode).toBe(60002);
  });
});

describe("REST door: the caller", () => {
  it("must be an admin of the app (60010)", async () => {
    const app = await anApp();
    const user = aUserId();
    await app.rest("im_open_login_svc/account_import", { UserID: user });
    const answer = await app.rest("im_open_login_svc/account_import", { UserID: aUserId() }, { as: user });
    expect(answer.body.ErrorCode).toBe(60010);
  });

  it("may be any of the app's admins", async () => {
    const app = await anApp({ admins: ["ops", "backend"] });
    const answer = await app.rest("im_open_login_svc/account_check", check(), { as: "backend" });
    expect(answer.body.ErrorCode).toBe(0);
  });

  it("is refused when the app is disabled (60016)", async () => {
    const app = await anApp();
    await env.APP.get(env.APP.idFromName(String(app.sdkAppId))).configure(app.sdkAppId, { status: "disabled" });
    expect((await app.rest("im_open_login_svc/account_check", check())).body.ErrorCode).toBe(60016);
  });

  it("with an expired UserSig gets 70001", async () => {
    const app = await anApp();
    const { generateUserSig } = await import("../../src/domain/usersig.ts");
    const old = await generateUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier: app.admin, expireSeconds: 10, now: 1_600_000_000 });
    expect((await app.rest("im_open_login_svc/account_check", check(), { userSig: old })).body.ErrorCode).toBe(70001);
  });

  it("with a UserSig for another identifier gets 70013", async () => {
    const app = await anApp({ admins: ["ops", "backend"] });
    const answer = await app.rest("im_open_login_svc/account_check", check(), { as: "backend", userSig: await app.sig("ops") });
    expect(answer.body.ErrorCode).toBe(70013);
  });
});

describe("REST door: the body", () => {
  const app = defaultApp();
  it("rejects malformed JSON (60003)", async () => {
    const answer = await app.rest("im_open_login_svc/account_import", null, { rawBody: '{"UserID": "a",' });
    expect(answer.body.ErrorCode).toBe(60003);
  });
  it("refuses a body nested too deep to check (60003), instead of failing inside", async () => {
    let body: unknown = [{ MsgType: "TIMTextElem", MsgContent: { Text: "x" } }];
    for (let i = 0; i < 700; i++) body = [{ MsgType: "TIMRelayElem", MsgContent: { Title: "t", MsgNum: 1, MsgList: [{ MsgBody: body }] } }];
    const answer = await app.rest("openim/sendmsg", { To_Account: "someone", MsgRandom: 1, MsgBody: body });
    expect(answer.body).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 60003 });
    expect(answer.body.ErrorInfo).toMatch(/nests more than 64 levels/);
  });
  it("rejects an empty body (60003)", async () => {
    expect((await app.rest("im_open_login_svc/account_import", null, { rawBody: "" })).body.ErrorCode).toBe(60003);
  });
  it("rejects a body that is not an object (60003)", async () => {
    expect((await app.rest("im_open_login_svc/account_import", ["UserID"])).body.ErrorCode).toBe(60003);
  });
  it("rejects a body that is not UTF-8 (60003)", async () => {
    const answer = await app.rest("im_open_login_svc/account_import", null, { rawBody: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) });
    expect(answer.body.ErrorCode).toBe(60003);
  });
  it("rejects a body over 1 MiB (60002)", async () => {
    const answer = await app.rest("im_open_login_svc/account_import", null, { rawBody: `{"UserID":"a","Nick":"${"x".repeat(1024 * 1024)}"}` });
    expect(answer.body.ErrorCode).toBe(60002);
  });
  it("stops reading a chunked body at 1 MiB, without waiting for its end (60002)", async () => {
    // More than 1 MiB, with no content-length, from a sender that never finishes.
    const chunk = new TextEncoder().encode(`{"UserID":"a","Nick":"${"x".repeat(64 * 1024)}`);
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += chunk.byteLength;
        controller.enqueue(chunk);
        if (sent > 2 * 1024 * 1024) return new Promise<void>(() => {});
      },
    });
    const { sdkAppId, admin } = app;
    const url = `https://im.example/v4/im_open_login_svc/account_import?sdkappid=${sdkAppId}&identifier=${admin}&usersig=${encodeURIComponent(await app.sig())}`;
    const response = await Promise.race([
      SELF.fetch(url, { method: "POST", body: endless }),
      new Promise<undefined>((resolve) => setTimeout(resolve, 3000)),
    ]);
    expect(response, "no answer within 3 s").toBeDefined();
    expect(response!.status).toBe(200);
    expect(await response!.json()).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 60002 });
    await endless.cancel().catch(() => {});
  });
  it("names the field that is wrong, with the service's parameter code", async () => {
    const answer = await app.rest("im_open_login_svc/account_import", { UserID: 42 });
    expect(answer.body.ErrorCode).toBe(70402);
    expect(answer.body.ErrorInfo).toMatch(/^UserID: /);
  });
  it.each([
    ["a number for a string", "im_open_login_svc/account_import", { UserID: 123 }, 70402, "UserID: expected a string, got a number"],
    ["an object for a string", "im_open_login_svc/account_import", { UserID: "ok", Nick: {} }, 70402, "Nick: expected a string, got an object"],
    ["null for a string", "im_open_login_svc/account_check", { CheckItem: [{ UserID: "ok" }, { UserID: null }] }, 70402, "CheckItem[1].UserID: expected a string, got null"],
    ["a string for a list", "im_open_login_svc/account_check", { CheckItem: "ok" }, 70402, "CheckItem: expected an array, got a string"],
    ["an array for an object", "im_open_login_svc/account_check", { CheckItem: [["ok"]] }, 70402, "CheckItem[0]: expected an object, got an array"],
    ["a wrong type under an earlier name", "im_open_login_svc/account_import", { Identifier: true }, 70402, "Identifier: expected a string, got a boolean"],
    ["a fraction for an integer", "openim/sendmsg", { To_Account: "b", MsgRandom: 1, MsgLifeTime: 1.5, MsgBody: [] }, 90026, "MsgLifeTime: expected an integer, got 1.5"],
    ["a string for a number", "openim/sendmsg", { To_Account: "b", MsgRandom: "1", MsgBody: [] }, 90005, "MsgRandom: expected a number, got a string"],
    ["a string for one of two numbers", "openim/sendmsg", { To_Account: "b", MsgRandom: 1, SyncOtherMachine: "1", MsgBody: [] }, 90001, 'SyncOtherMachine: must be one of 1, 2 (got "1")'],
    ["a wrong type inside a message element", "openim/sendmsg", { To_Account: "b", MsgRandom: 1, MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: 5 } }] }, 90002, "MsgBody[0].MsgContent.Text: expected a string, got a number"],
    ["an unknown element type", "openim/sendmsg", { To_Account: "b", MsgRandom: 1, MsgBody: [{ MsgType: "TIMNoSuchElem", MsgContent: {} }] }, 90002, expect.stringMatching(/^MsgBody\[0\]\.MsgType: .*\(got "TIMNoSuchElem"\)$/)],
  ])("says what is wrong with a field of the wrong type: %s", async (_case, command, body, code, info) => {
    const answer = await app.rest(command, body);
    expect(answer.body).toMatchObject({ ErrorCode: code, ErrorInfo: info });
  });
  it("names a field inside a list by its position", async () => {
    const answer = await app.rest("im_open_login_svc/account_check", { CheckItem: [{ UserID: "ok" }, { UserID: "not ok!" }] });
    expect(answer.body.ErrorCode).toBe(70402);
    expect(answer.body.ErrorInfo).toMatch(/^CheckItem\[1\]\.UserID: /);
  });
  it("says a missing field is required", async () => {
    const answer = await app.rest("im_open_login_svc/account_check", {});
    expect(answer.body.ErrorInfo).toBe("CheckItem: is required");
  });
  it("ignores fields it does not know, as Tencent does", async () => {
    const answer = await app.rest("im_open_login_svc/account_import", { UserID: aUserId(), FutureField: { x: 1 } });
    expect(answer.body.ErrorCode).toBe(0);
  });
});

describe("REST door: rate limit", () => {
  it("answers 60007 past the app's calls per second, per command", async () => {
    const app = await anApp({ settings: { restRateLimit: 3 } });
    // Ten at once: a burst of one second's worth (3) passes, the rest are refused.
    const answers = await Promise.all(Array.from({ length: 10 }, () => app.rest("im_open_login_svc/account_import", { UserID: aUserId() })));
    const codes = answers.map((a) => a.body.ErrorCode);
    expect(codes.filter((c) => c === 0).length).toBeGreaterThanOrEqual(3);
    expect(codes.filter((c) => c === 0).length).toBeLessThanOrEqual(4);
    expect(codes.filter((c) => c === 60007).length).toBe(10 - codes.filter((c) => c === 0).length);
    // Another command has a bucket of its own.
    expect((await app.rest("im_open_login_svc/account_check", check())).body.ErrorCode).toBe(0);
  });

  it("changes nothing for a call it refuses", async () => {
    const app = await anApp({ settings: { restRateLimit: 1 } });
    const users = [aUserId(), aUserId(), aUserId()];
    const answers = await Promise.all(users.map((UserID) => app.rest("im_open_login_svc/account_import", { UserID })));
    const refused = users.filter((_, i) => answers[i]!.body.ErrorCode === 60007);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    const status = await app.rest("im_open_login_svc/account_check", { CheckItem: refused.map((UserID) => ({ UserID })) });
    expect((status.body.ResultItem as { AccountStatus: string }[]).map((r) => r.AccountStatus)).toEqual(refused.map(() => "NotImported"));
  });

  it("can be set per command", async () => {
    const app = await anApp({ settings: { restRateLimit: 100, commandRateLimits: { "im_open_login_svc/account_check": 2 } } });
    const answers = await Promise.all(Array.from({ length: 6 }, () => app.rest("im_open_login_svc/account_check", check())));
    const passed = answers.filter((a) => a.body.ErrorCode === 0).length;
    expect(passed).toBeGreaterThanOrEqual(2);
    expect(passed).toBeLessThanOrEqual(3);
    expect(answers.filter((a) => a.body.ErrorCode === 60007)).toHaveLength(6 - passed);
  });
});

describe("REST door: logs", () => {
  afterEach(() => vi.restoreAllMocks());

  it("writes one JSON line per call with app, command, caller, code, time and D1 rows, and no secrets", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
    const app = await anApp();
    const userSig = await app.sig();
    await app.rest("im_open_login_svc/account_import", { UserID: aUserId(), Nick: "N" }, { userSig });
    const restLines = lines.map((l) => JSON.parse(l)).filter((l) => l.event === "rest");
    expect(restLines).toEqual([
      expect.objectContaining({ app: app.sdkAppId, command: "im_open_login_svc/account_import", caller: app.admin, code: 0, ms: expect.any(Number) }),
    ]);
    expect(restLines[0].d1RowsWritten).toBeGreaterThanOrEqual(2);
    const all = lines.join("\n");
    expect(all).not.toContain(userSig);
    expect(all).not.toContain(app.secretKey);
  });
});

describe("REST door: other paths", () => {
  it("answers 404 in JSON outside /v4", async () => {
    const answer = await call("/nope", undefined, "GET");
    expect(answer.status).toBe(404);
  });
});
