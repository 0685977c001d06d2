import { afterEach, describe, expect, it, vi } from "vitest";
import { deliverQueuedCallback } from "../../src/callbacks/afterQueue.ts";
import { AppSettings, viewOf } from "../../src/domain/app.ts";
import { createHash } from "node:crypto";
import {
  callbackBody,
  callbackEnabled,
  callbackRequestUrl,
  callbacksFromConfig,
  callbackSign,
  callbackUrlProblem,
  c2cAfterSendMsgFields,
  c2cMsgReportFields,
  c2cMsgWithdrawFields,
  c2cSendFailedFields,
  c2cSendMsgFields,
  decisionOnFailure,
  isDeliveryRefusal,
  readBeforeSendAnswer,
} from "../../src/domain/callbacks.ts";
import type { C2CMessage } from "../../src/domain/message.ts";

describe("callback configuration", () => {
  it("reads the default app's callbacks from IM_CALLBACK_*", () => {
    expect(callbacksFromConfig({ url: "https://backend.example/im", commands: "C2C.CallbackBeforeSendMsg, State.StateChange", token: "xxx" })).toEqual({
      settings: {
        url: "https://backend.example/im",
        commands: ["C2C.CallbackBeforeSendMsg", "State.StateChange"],
        token: "xxx",
        timeoutMs: 2000,
        onTimeout: "proceed",
      },
    });
    expect(callbacksFromConfig({ url: "http://127.0.0.1:9000/cb", commands: "*" }).settings?.commands).toBe("*");
    expect(callbacksFromConfig({ url: "", commands: "*" })).toEqual({});
    expect(callbacksFromConfig({})).toEqual({});
  });

  it("refuses URLs that are not http(s), with the reason", () => {
    expect(callbacksFromConfig({ url: "ftp://backend.example/im", commands: "*" }).error).toMatch(/http or https/);
    expect(callbacksFromConfig({ url: "not a url", commands: "*" }).error).toMatch(/not a URL/);
    expect(callbacksFromConfig({ url: "javascript:alert(1)", commands: "*" }).error).toMatch(/http or https/);
    expect(() => AppSettings.parse({ callbacks: { url: "file:///etc/passwd" } })).toThrow(/http or https/);
  });

  it("refuses the worker's own host (a loop) when it is known", () => {
    expect(callbackUrlProblem("https://im.example.com/v4/x", "im.example.com")).toMatch(/loop/);
    expect(callbackUrlProblem("https://IM.example.com/cb", "im.example.com")).toMatch(/loop/);
    expect(callbackUrlProblem("https://backend.example.com/cb", "im.example.com")).toBeNull();
    expect(callbackUrlProblem("http://127.0.0.1:8787/cb", "127.0.0.1:8787")).toMatch(/loop/);
    expect(callbackUrlProblem("http://127.0.0.1:9000/cb", "127.0.0.1:8787")).toBeNull();
  });

  it("knows the worker's own host however the URL spells it", () => {
    for (const url of [
      "http://localhost:8787/cb",
      "http://LOCALHOST:8787/cb",
      "http://localhost.:8787/cb",
      "http://a.localhost:8787/cb",
      "http://[::1]:8787/cb",
      "http://[::ffff:127.0.0.1]:8787/cb",
      "http://127.0.0.2:8787/cb",
      "http://127.1:8787/cb",
      "http://2130706433:8787/cb",
      "http://0.0.0.0:8787/cb",
    ]) {
      expect(callbackUrlProblem(url, "127.0.0.1:8787"), url).toMatch(/loop/);
      expect(callbackUrlProblem(url, "localhost:8787"), url).toMatch(/loop/);
    }
    expect(callbackUrlProblem("http://localhost:9000/cb", "127.0.0.1:8787")).toBeNull();
    expect(callbackUrlProblem("http://[::1]:9000/cb", "localhost:8787")).toBeNull();
    for (const url of ["https://IM.example.com./cb", "http://im.example.com/cb", "https://im.example.com:8443/cb", "https://im.example.com:443/cb"]) {
      expect(callbackUrlProblem(url, "im.example.com"), url).toMatch(/loop/);
    }
    expect(callbackUrlProblem("http://localhost/cb", "im.example.com")).toBeNull();
    expect(callbackUrlProblem("http://127.0.0.1:9000/cb", "localhost")).toBeNull();
    expect(callbackUrlProblem("http://127.0.0.1/cb", "localhost")).toMatch(/loop/);
  });

  it("sends only the enabled commands", () => {
    const settings = AppSettings.parse({ callbacks: { url: "https://b.example/cb", commands: ["State.StateChange"] } }).callbacks;
    expect(callbackEnabled(settings, "State.StateChange")).toBe(true);
    expect(callbackEnabled(settings, "C2C.CallbackBeforeSendMsg")).toBe(false);
    expect(callbackEnabled(undefined, "State.StateChange")).toBe(false);
    expect(callbackEnabled(AppSettings.parse({}).callbacks, "State.StateChange")).toBe(false);
    const all = AppSettings.parse({ callbacks: { url: "https://b.example/cb", commands: "*" } }).callbacks;
    expect(callbackEnabled(all, "C2C.CallbackAfterSendMsg")).toBe(true);
  });
});

describe("callback requests", () => {
  it("signs as Tencent documents: token xxx, RequestTime 1669872112", async () => {
    const expected = createHash("sha256").update("xxx1669872112").digest("hex");
    expect(expected).toBe("28a18018cc53796d3420c37146a7b43089e0df9b838cc6fc5efd42a1df50e6b9");
    expect(await callbackSign("xxx", 1669872112)).toBe(expected);
  });

  it("builds the query Tencent sends, signed when there is a token", async () => {
    const url = await callbackRequestUrl("https://backend.example/im?app=1", {
      sdkAppId: 1400000000,
      command: "C2C.CallbackBeforeSendMsg",
      clientIp: "203.0.113.7",
      platform: "RESTAPI",
      token: "xxx",
      now: 1669872112_345,
    });
    const parsed = new URL(url);
    expect(parsed.origin + parsed.pathname).toBe("https://backend.example/im");
    expect([...parsed.searchParams]).toEqual([
      ["app", "1"],
      ["SdkAppid", "1400000000"],
      ["CallbackCommand", "C2C.CallbackBeforeSendMsg"],
      ["contenttype", "json"],
      ["ClientIP", "203.0.113.7"],
      ["OptPlatform", "RESTAPI"],
      ["Sign", "28a18018cc53796d3420c37146a7b43089e0df9b838cc6fc5efd42a1df50e6b9"],
      ["RequestTime", "1669872112"],
    ]);
    const unsigned = new URL(await callbackRequestUrl("http://127.0.0.1:9000/cb", { sdkAppId: 1, command: "State.StateChange", platform: "Web", now: 0 }));
    expect(unsigned.searchParams.get("ClientIP")).toBe("");
    expect(unsigned.searchParams.has("Sign")).toBe(false);
    expect(unsigned.searchParams.has("RequestTime")).toBe(false);
  });

  it("puts the command and the event's time in the body", () => {
    expect(callbackBody("C2C.CallbackAfterSendMsg", 1669872112345, { From_Account: "a", To_Account: "b" })).toEqual({
      CallbackCommand: "C2C.CallbackAfterSendMsg",
      EventTime: 1669872112345,
      From_Account: "a",
      To_Account: "b",
    });
  });
});

describe("one-to-one callback bodies", () => {
  const message: C2CMessage = { key: "48374_2837546_1557481126", from: "jared", to: "Jonh", msgSeq: 48374, random: 2837546, time: 1557481126, body: [{ MsgType: "TIMTextElem", MsgContent: { Text: "hi" } }] };

  it("show the message as Tencent names it, with an empty CloudCustomData when it has none", () => {
    expect(c2cSendMsgFields(message, true)).toEqual({
      From_Account: "jared",
      To_Account: "Jonh",
      MsgSeq: 48374,
      MsgRandom: 2837546,
      MsgTime: 1557481126,
      MsgKey: "48374_2837546_1557481126",
      OnlineOnlyFlag: 1,
      MsgBody: message.body,
      CloudCustomData: "",
    });
  });

  it("after a send, add the result and the recipient's unread count over all its conversations", () => {
    expect(c2cAfterSendMsgFields({ ...message, cloudCustomData: "cd" }, false, 7)).toEqual({
      ...c2cSendMsgFields({ ...message, cloudCustomData: "cd" }, false),
      SendMsgResult: 0,
      ErrorInfo: "send msg succeed",
      UnreadMsgNum: 7,
    });
  });

  it("after a send the recipient refused, carry the refusal and UnreadMsgNum -1", () => {
    expect(c2cSendFailedFields(message, false, { code: 20007, info: "the recipient has blocked the sender" })).toEqual({
      ...c2cSendMsgFields(message, false),
      SendMsgResult: 20007,
      ErrorInfo: "the recipient has blocked the sender",
      UnreadMsgNum: -1,
    });
    expect([20007, 20009, 20010, 20011].every(isDeliveryRefusal)).toBe(true);
    // The sender's own mistakes and the backend's refusals are not deliveries that failed.
    expect([20006, 90012, 93000, 80003].some(isDeliveryRefusal)).toBe(false);
  });

  it("after a recall and a read report, carry UnreadMsgNum too", () => {
    expect(c2cMsgWithdrawFields("jared", "Jonh", message.key, 3)).toEqual({ From_Account: "jared", To_Account: "Jonh", MsgKey: message.key, UnreadMsgNum: 3 });
    expect(c2cMsgReportFields("Jonh", "jared", 1557481200, 2)).toEqual({ Report_Account: "Jonh", Peer_Account: "jared", LastReadTime: 1557481200, UnreadMsgNum: 2 });
  });
});

describe("a BeforeSendMsg answer", () => {
  const text = (t: string) => [{ MsgType: "TIMTextElem", MsgContent: { Text: t } }];

  it("allows, and may rewrite MsgBody and CloudCustomData", () => {
    expect(readBeforeSendAnswer({ ActionStatus: "OK", ErrorCode: 0, ErrorInfo: "" }, "c2c")).toEqual({ decision: { kind: "allow" } });
    expect(readBeforeSendAnswer({ ActionStatus: "OK", ErrorCode: 0, MsgBody: text("***"), CloudCustomData: "x" }, "c2c")).toEqual({
      decision: { kind: "allow", body: text("***"), cloudCustomData: "x" },
    });
  });

  it("refuses with 20006 (10016 for groups) or the backend's own code", () => {
    expect(readBeforeSendAnswer({ ActionStatus: "FAIL", ErrorCode: 1, ErrorInfo: "no spam" }, "c2c")).toEqual({ decision: { kind: "refuse", code: 20006, info: "no spam" } });
    expect(readBeforeSendAnswer({ ErrorCode: 1 }, "group")).toEqual({ decision: { kind: "refuse", code: 10016, info: "refused by the app's backend" } });
    expect(readBeforeSendAnswer({ ErrorCode: 120001, ErrorInfo: "mine" }, "c2c")).toEqual({ decision: { kind: "refuse", code: 120001, info: "mine" } });
    expect(readBeforeSendAnswer({ ErrorCode: 130000 }, "c2c")).toMatchObject({ decision: { kind: "refuse", code: 130000 } });
    expect(readBeforeSendAnswer({ ErrorCode: 10150 }, "group")).toMatchObject({ decision: { kind: "refuse", code: 10150 } });
  });

  it("drops silently on ErrorCode 2", () => {
    expect(readBeforeSendAnswer({ ActionStatus: "OK", ErrorCode: 2 }, "c2c")).toEqual({ decision: { kind: "drop" } });
  });

  it("is a failure when it says nothing the spec defines", () => {
    for (const answer of [null, "OK", [], {}, { ErrorCode: "0" }, { ErrorCode: 0.5 }, { ErrorCode: 130001 }, { ErrorCode: 10150 }, { ErrorCode: 0, MsgBody: [] }, { ErrorCode: 0, MsgBody: [{ MsgType: "Nope" }] }]) {
      expect(readBeforeSendAnswer(answer, "c2c")).toHaveProperty("failure");
    }
  });

  it("after a failure, proceeds or refuses with 80003 as the app chose", () => {
    expect(decisionOnFailure({ onTimeout: "proceed" }, "timed out")).toEqual({ kind: "allow" });
    expect(decisionOnFailure({ onTimeout: "refuse" }, "timed out")).toEqual({ kind: "refuse", code: 80003, info: "the app's callback failed: timed out" });
  });
});

describe("the app's view", () => {
  it("carries the callbacks without their token, saying only whether one is set", () => {
    const settings = AppSettings.parse({ callbacks: { url: "https://backend.example/im", commands: "*", token: "xxx" } });
    const view = viewOf({ sdkAppId: 1, name: "app", secretKey: "key", admins: ["admin"], status: "active", settings });
    expect(view.settings.callbacks).toEqual({ url: "https://backend.example/im", commands: "*", timeoutMs: 2000, onTimeout: "proceed", hasToken: true });
    expect(JSON.stringify(view)).not.toMatch(/xxx|key/);
    expect(viewOf({ sdkAppId: 1, name: "app", admins: [], status: "active", settings: AppSettings.parse({}) }).settings.callbacks).toBeUndefined();
  });
});

describe("a queued after-callback", () => {
  afterEach(() => vi.restoreAllMocks());
  const settings = callbacksFor("Sns.CallbackFriendAdd");

  it("is dropped with a log line once it is older than a day, without a request", async () => {
    const requests = vi.spyOn(globalThis, "fetch");
    const logs = vi.spyOn(console, "log").mockImplementation(() => {});
    await deliverQueuedCallback(7, settings, "Sns.CallbackFriendAdd", { eventTime: Date.now() - 25 * 3600_000, platform: "RESTAPI", fields: {} }, 41);
    expect(requests).not.toHaveBeenCalled();
    const line = JSON.parse(String(logs.mock.calls[0]?.[0]));
    expect(line).toMatchObject({ event: "callback_dropped", app: 7, command: "Sns.CallbackFriendAdd", attempts: 41, reason: "older than a day" });
  });

  it("is owed no more once the app turned its command off", async () => {
    const requests = vi.spyOn(globalThis, "fetch");
    await deliverQueuedCallback(7, callbacksFor("Sns.CallbackFriendDelete"), "Sns.CallbackFriendAdd", { eventTime: Date.now(), platform: "RESTAPI", fields: {} }, 0);
    await deliverQueuedCallback(7, undefined, "Sns.CallbackFriendAdd", { eventTime: Date.now(), platform: "RESTAPI", fields: {} }, 0);
    expect(requests).not.toHaveBeenCalled();
  });

  it("fails, so the drain retries it, when the receiver cannot be reached", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(globalThis, "fetch").mockRejectedValue(new Error("connection refused"));
    await expect(deliverQueuedCallback(7, settings, "Sns.CallbackFriendAdd", { eventTime: Date.now(), platform: "RESTAPI", fields: {} }, 0)).rejects.toThrow(/connection refused/);
  });
});

function callbacksFor(command: string) {
  return AppSettings.parse({ callbacks: { url: "http://127.0.0.1:9/cb", commands: [command] } }).callbacks!;
}
