import { describe, expect, it } from "vitest";
import { AppSettings } from "../../src/domain/app.ts";
import { callbackEnabled, callbacksFromConfig, callbackUrlProblem } from "../../src/domain/callbacks.ts";

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
