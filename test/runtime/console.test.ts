import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { issueSession } from "../../src/console/session.ts";
import worker from "../../src/index.ts";
import { anApp, type TestApp } from "./helpers.ts";

const base = "https://im.example";
const consoleKey = env.IM_CONSOLE_KEY!;
let addressCounter = 0;

/** A browser of its own: its own address (for the wrong-key count) and cookie. */
function aBrowser() {
  const address = `10.0.${Math.floor(addressCounter / 250)}.${(addressCounter++ % 250) + 1}`;
  let cookie = "";
  let csrf = "";
  const headers = (extra: Record<string, string> = {}) => ({
    "content-type": "application/json",
    origin: base,
    "cf-connecting-ip": address,
    ...(cookie ? { cookie } : {}),
    ...(csrf ? { "x-csrf-token": csrf } : {}),
    ...extra,
  });
  const browser = {
    address,
    get cookie() {
      return cookie;
    },
    set cookie(value: string) {
      cookie = value;
    },
    get csrf() {
      return csrf;
    },
    set csrf(value: string) {
      csrf = value;
    },
    async signIn(body: unknown, extra: Record<string, string> = {}) {
      const response = await SELF.fetch(`${base}/console/api/signin`, { method: "POST", headers: headers(extra), body: JSON.stringify(body) });
      const setCookie = response.headers.get("set-cookie");
      const answer = (await response.json()) as Record<string, unknown>;
      if (setCookie) cookie = setCookie.split(";")[0]!;
      if (typeof answer.CsrfToken === "string") csrf = answer.CsrfToken;
      return { status: response.status, setCookie, body: answer };
    },
    async call(path: string, body: unknown = {}, extra: Record<string, string> = {}) {
      const response = await SELF.fetch(`${base}/console/api/${path}`, { method: "POST", headers: headers(extra), body: JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> & { ErrorCode: number; ErrorInfo: string } };
    },
  };
  return browser;
}

async function operator() {
  const browser = aBrowser();
  const signed = await browser.signIn({ ConsoleKey: consoleKey });
  expect(signed.status).toBe(200);
  return browser;
}

async function appOperator(app: TestApp) {
  const browser = aBrowser();
  const signed = await browser.signIn({ SdkAppId: app.sdkAppId, SecretKey: app.secretKey });
  expect(signed.body).toMatchObject({ ActionStatus: "OK", Role: "App", SdkAppId: app.sdkAppId });
  return browser;
}

async function recallWindowOf(app: TestApp): Promise<number> {
  const got = await app.rest("edgeim_admin_svc/get_app", {});
  return (got.body.Settings as { recallWindowSeconds: number }).recallWindowSeconds;
}

describe("console sign-in", () => {
  it("signs the deployment's operator in with a strict, HttpOnly, Secure cookie and answers who is signed in", async () => {
    const browser = aBrowser();
    const signed = await browser.signIn({ ConsoleKey: consoleKey });
    expect(signed.body).toMatchObject({ ActionStatus: "OK", Role: "Deployment" });
    expect(signed.setCookie).toMatch(/^edgeim_console=[^;]+; Path=\/console\/; Max-Age=1800; HttpOnly; SameSite=Strict; Secure$/);
    const session = await (await SELF.fetch(`${base}/console/api/session`, { headers: { cookie: browser.cookie } })).json();
    expect(session).toMatchObject({ SignedIn: true, Role: "Deployment", CsrfToken: browser.csrf, ConsoleKeyConfigured: true });
  });

  it("refuses a wrong console key or a wrong app key with the same clear message and no cookie", async () => {
    const app = await anApp();
    const wrongConsole = await aBrowser().signIn({ ConsoleKey: "not-the-key" });
    expect(wrongConsole).toMatchObject({ status: 401, setCookie: null, body: { ActionStatus: "FAIL", ErrorCode: 70009, ErrorInfo: "the console key is wrong" } });
    const wrongApp = await aBrowser().signIn({ SdkAppId: app.sdkAppId, SecretKey: "0".repeat(64) });
    const noSuchApp = await aBrowser().signIn({ SdkAppId: 1_999_999_999, SecretKey: app.secretKey });
    for (const answer of [wrongApp, noSuchApp]) {
      expect(answer).toMatchObject({ status: 401, setCookie: null, body: { ErrorCode: 70009, ErrorInfo: "the SDKAppID or the secret key is wrong" } });
    }
    const malformed = await aBrowser().signIn({ SdkAppId: "abc" });
    expect(malformed).toMatchObject({ status: 400, body: { ErrorCode: 60003 } });
  });

  it("slows an address down after five wrong keys, even for the right key, while other addresses sign in", async () => {
    const browser = aBrowser();
    for (let i = 0; i < 5; i++) expect((await browser.signIn({ ConsoleKey: `wrong-${i}` })).status).toBe(401);
    const slowed = await browser.signIn({ ConsoleKey: consoleKey });
    expect(slowed).toMatchObject({ status: 429, setCookie: null, body: { ErrorCode: 60007 } });
    expect(slowed.body.ErrorInfo).toMatch(/^too many wrong keys from this address: try again in \d+ s$/);
    expect((await aBrowser().signIn({ ConsoleKey: consoleKey })).status).toBe(200);
  });

  it("counts an IPv6 caller's wrong keys by its /64, however many of its addresses it uses", async () => {
    const network = `2001:db8:${(addressCounter++).toString(16)}:7`;
    const from = (address: string) => ({ "cf-connecting-ip": address });
    const spellings = [`${network}::1`, `${network}:0:0:0:2`, `${network}:ffff:1:2:3`, `${network.toUpperCase()}::abcd`, `${network}:0::9`];
    for (const address of spellings) expect((await aBrowser().signIn({ ConsoleKey: "wrong" }, from(address))).status, address).toBe(401);
    const slowed = await aBrowser().signIn({ ConsoleKey: consoleKey }, from(`${network}:1234::5`));
    expect(slowed).toMatchObject({ status: 429, body: { ErrorCode: 60007 } });
    expect((await aBrowser().signIn({ ConsoleKey: consoleKey }, from(`${network.replace(/:7$/, ":8")}::1`))).status).toBe(200);
  });

  it("slows wrong app keys down per app and address, and the /v4 console key too", async () => {
    const app = await anApp();
    const browser = aBrowser();
    for (let i = 0; i < 5; i++) await browser.signIn({ SdkAppId: app.sdkAppId, SecretKey: `wrong-${i}` });
    expect((await browser.signIn({ SdkAppId: app.sdkAppId, SecretKey: app.secretKey })).status).toBe(429);

    const address = aBrowser().address;
    const v4 = (key: string) =>
      SELF.fetch(`${base}/v4/edgeim_console_svc/list_apps`, { method: "POST", headers: { authorization: `Bearer ${key}`, "cf-connecting-ip": address }, body: "{}" }).then(
        (r) => r.json() as Promise<{ ErrorCode: number }>,
      );
    for (let i = 0; i < 5; i++) expect((await v4(`wrong-${i}`)).ErrorCode).toBe(70009);
    expect((await v4(consoleKey)).ErrorCode).toBe(60007);
  });

  it("refuses a sign-in body past 4 KiB even without a length, and answers other calls under /console/api in the envelope", async () => {
    const chunks = [new TextEncoder().encode('{"ConsoleKey":"'), ...Array.from({ length: 20 }, () => new TextEncoder().encode("k".repeat(1000))), new TextEncoder().encode('"}')];
    const body = new ReadableStream({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const streamed = await SELF.fetch(`${base}/console/api/signin`, { method: "POST", headers: { "content-type": "application/json", "cf-connecting-ip": aBrowser().address }, body });
    expect({ status: streamed.status, body: await streamed.json() }).toMatchObject({ status: 400, body: { ErrorCode: 60002, ErrorInfo: "a sign-in body is at most 4096 bytes" } });

    const browser = await operator();
    for (const [method, path] of [["GET", "edgeim_admin_svc/get_app?sdkappid=1"], ["POST", "a/b/c"], ["PUT", "signin"], ["DELETE", "session"]] as const) {
      const response = await SELF.fetch(`${base}/console/api/${path}`, { method, headers: { cookie: browser.cookie, "x-csrf-token": browser.csrf, origin: base } });
      expect({ status: response.status, body: await response.json() }, `${method} ${path}`).toMatchObject({ status: 404, body: { ActionStatus: "FAIL", ErrorCode: 60009 } });
    }
  });

  it("signs out: the cookie is cleared", async () => {
    const browser = await operator();
    const response = await SELF.fetch(`${base}/console/api/signout`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base, cookie: browser.cookie, "x-csrf-token": browser.csrf },
      body: "{}",
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("set-cookie")).toMatch(/^edgeim_console=; Path=\/console\/; Max-Age=0; HttpOnly; SameSite=Strict/);
  });
});

describe("console sessions", () => {
  it("refuses expired and forged sessions, and changes nothing", async () => {
    const app = await anApp();
    const browser = await operator();
    const change = { Settings: { recallWindowSeconds: 5 } };

    const expired = await issueSession(env, { role: "deployment", csrf: browser.csrf }, Math.floor(Date.now() / 1000) - 3600);
    browser.cookie = `edgeim_console=${expired.token}`;
    expect(await browser.call(`edgeim_admin_svc/set_app_settings?sdkappid=${app.sdkAppId}`, change)).toMatchObject({
      status: 401,
      body: { ErrorInfo: "the session expired: sign in again" },
    });

    // A token signed with another key, one whose claims were edited, one that is not a token at all.
    const otherKey = await issueSession({ ...env, IM_CONSOLE_KEY: "someone-elses-key" }, { role: "deployment", csrf: browser.csrf });
    const appToken = (await appOperator(app)).cookie.split("=")[1]!;
    const [header, payload, signature] = appToken.split(".");
    const claims = JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/")));
    const edited = btoa(JSON.stringify({ ...claims, role: "deployment" })).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    for (const token of [otherKey.token, `${header}.${edited}.${signature}`, "not-a-token"]) {
      browser.cookie = `edgeim_console=${token}`;
      const answer = await browser.call(`edgeim_admin_svc/set_app_settings?sdkappid=${app.sdkAppId}`, change);
      expect(answer, token).toMatchObject({ status: 401, body: { ActionStatus: "FAIL", ErrorInfo: "the session is not valid: sign in again" } });
    }
    expect(await recallWindowOf(app)).toBe(120);
  });

  it("refuses state changes without the CSRF token, with another session's, from another origin or as a form", async () => {
    const app = await anApp();
    const browser = await operator();
    const other = await operator();
    const path = `edgeim_admin_svc/set_app_settings?sdkappid=${app.sdkAppId}`;
    const change = { Settings: { recallWindowSeconds: 5 } };
    const refusals = [
      await browser.call(path, change, { "x-csrf-token": "" }),
      await browser.call(path, change, { "x-csrf-token": other.csrf }),
      await browser.call(path, change, { origin: "https://evil.example" }),
      await browser.call(path, change, { "sec-fetch-site": "cross-site" }),
      await browser.call(path, change, { "content-type": "application/x-www-form-urlencoded" }),
    ];
    for (const refusal of refusals) expect(refusal.status).toBe(403);
    expect(refusals[0]!.body.ErrorInfo).toBe("the X-CSRF-Token header is missing or does not match this session: reload the console");
    expect(refusals[2]!.body.ErrorInfo).toBe("requests from https://evil.example are not accepted");
    expect(await recallWindowOf(app)).toBe(120);
    // The same call with the token goes through.
    expect((await browser.call(path, change)).body.ErrorCode).toBe(0);
    expect(await recallWindowOf(app)).toBe(5);
  });
});

describe("console scope", () => {
  it("lets an app's operator act on that app only; another app's id in the URL is refused and nothing changes", async () => {
    const mine = await anApp();
    const theirs = await anApp();
    const browser = await appOperator(mine);
    expect((await browser.call(`edgeim_admin_svc/get_app?sdkappid=${mine.sdkAppId}`)).body).toMatchObject({ ErrorCode: 0, SdkAppId: mine.sdkAppId });

    for (const path of [
      `edgeim_admin_svc/get_app?sdkappid=${theirs.sdkAppId}`,
      `edgeim_admin_svc/set_app_settings?sdkappid=${theirs.sdkAppId}`,
      `im_open_login_svc/account_import?sdkappid=${theirs.sdkAppId}`,
    ]) {
      const answer = await browser.call(path, { Settings: { recallWindowSeconds: 1 }, UserID: "intruder" });
      expect(answer, path).toMatchObject({
        status: 403,
        body: { ErrorCode: 60010, ErrorInfo: `this session belongs to app ${mine.sdkAppId}; it may not act for app ${theirs.sdkAppId}` },
      });
    }
    for (const path of ["edgeim_console_svc/list_apps", "edgeim_console_svc/create_app"]) {
      expect((await browser.call(path, { SdkAppId: theirs.sdkAppId })).status, path).toBe(403);
    }
    expect(await recallWindowOf(theirs)).toBe(120);
    expect((await theirs.rest("im_open_login_svc/account_check", { CheckItem: [{ UserID: "intruder" }] })).body.ResultItem).toMatchObject([
      { AccountStatus: "NotImported" },
    ]);
  });

  it("runs Tencent's commands for the app, as the app's admin", async () => {
    const app = await anApp();
    const browser = await appOperator(app);
    const imported = await browser.call(`im_open_login_svc/account_import?sdkappid=${app.sdkAppId}`, { UserID: "carol", Nick: "Carol" });
    expect(imported.body).toMatchObject({ ActionStatus: "OK", ErrorCode: 0 });
    const bad = await browser.call(`im_open_login_svc/account_import?sdkappid=${app.sdkAppId}`, { UserID: 5 });
    expect(bad).toMatchObject({ status: 200, body: { ActionStatus: "FAIL", ErrorCode: 70402 } });
    expect((await app.rest("im_open_login_svc/account_check", { CheckItem: [{ UserID: "carol" }] })).body.ResultItem).toMatchObject([
      { AccountStatus: "Imported" },
    ]);
  });

  it("ends an app operator's session when the app's key is rotated", async () => {
    const app = await anApp();
    const browser = await appOperator(app);
    const rotated = await browser.call(`edgeim_admin_svc/rotate_secret_key?sdkappid=${app.sdkAppId}`);
    expect(rotated.body.SecretKey).toMatch(/^[0-9a-f]{64}$/);
    expect((await browser.call(`edgeim_admin_svc/get_app?sdkappid=${app.sdkAppId}`)).status).toBe(401);
  });
});

describe("the deployment's operator", () => {
  it("creates apps, shows the key once, and lists them all, over the console and over /v4 with the console key", async () => {
    const browser = await operator();
    const created = await browser.call("edgeim_console_svc/create_app", { Name: "shop", Admins: ["boss"] });
    expect(created.body).toMatchObject({ ErrorCode: 0, Name: "shop", Admins: ["boss"] });
    const sdkAppId = created.body.SdkAppId as number;
    expect(created.body.SecretKey).toMatch(/^[0-9a-f]{64}$/);
    const got = await browser.call(`edgeim_admin_svc/get_app?sdkappid=${sdkAppId}`);
    expect(got.body).toMatchObject({ SdkAppId: sdkAppId, Name: "shop", Status: "Active" });
    expect(JSON.stringify(got.body)).not.toContain(created.body.SecretKey as string);

    const listed = await SELF.fetch(`${base}/v4/edgeim_console_svc/list_apps`, {
      method: "POST",
      headers: { authorization: `Bearer ${consoleKey}`, "cf-connecting-ip": aBrowser().address },
      body: JSON.stringify({ Limit: 100 }),
    });
    const list = (await listed.json()) as { ErrorCode: number; TotalCount: number; Apps: { SdkAppId: number; IsDefault: boolean }[] };
    expect(list.ErrorCode).toBe(0);
    expect(list.Apps.some((a) => a.IsDefault && a.SdkAppId === Number(env.IM_SDKAPPID))).toBe(true);
    expect(list.TotalCount).toBeGreaterThanOrEqual(2);

    const duplicate = await browser.call("edgeim_console_svc/create_app", { SdkAppId: sdkAppId });
    expect(duplicate.body).toMatchObject({ ErrorCode: 60003, ErrorInfo: `SdkAppId: app ${sdkAppId} already exists` });
  });

  it("refuses /v4 deployment commands without the console key, saying how to send it", async () => {
    const none = await (await SELF.fetch(`${base}/v4/edgeim_console_svc/list_apps`, { method: "POST", body: "{}" })).json();
    expect(none).toMatchObject({ ErrorCode: 60010, ErrorInfo: "deployment commands need the console key: send the header Authorization: Bearer <IM_CONSOLE_KEY>" });
  });

  it("reaches a disabled app to enable it again, where its own operator cannot sign in", async () => {
    const app = await anApp();
    const browser = await operator();
    expect((await browser.call(`edgeim_admin_svc/set_app_status?sdkappid=${app.sdkAppId}`, { Status: "Disabled" })).body.Status).toBe("Disabled");
    expect((await aBrowser().signIn({ SdkAppId: app.sdkAppId, SecretKey: app.secretKey })).body).toMatchObject({ ErrorCode: 60016 });
    expect((await browser.call(`im_open_login_svc/account_import?sdkappid=${app.sdkAppId}`, { UserID: "x" })).body.ErrorCode).toBe(60016);
    expect((await browser.call(`edgeim_admin_svc/set_app_status?sdkappid=${app.sdkAppId}`, { Status: "Active" })).body.Status).toBe("Active");
    expect((await app.rest("im_open_login_svc/account_import", { UserID: "x" })).body.ErrorCode).toBe(0);
  });
});

describe("a deployment without a console key", () => {
  /** The Worker as deployed without IM_CONSOLE_KEY: the same code, bindings and storage. */
  async function ask(path: string, init: RequestInit = {}) {
    const ctx = createExecutionContext();
    const response = await worker.fetch(new Request(`${base}${path}`, init), { ...env, IM_CONSOLE_KEY: undefined }, ctx);
    await waitOnExecutionContext(ctx);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }
  const json = (body: unknown, extra: Record<string, string> = {}) => ({
    method: "POST",
    headers: { "content-type": "application/json", origin: base, "cf-connecting-ip": aBrowser().address, ...extra },
    body: JSON.stringify(body),
  });

  it("tells the sign-in page, refuses the deployment's sign-in and sessions with 60010, and still signs app operators in", async () => {
    expect(await ask("/console/api/session")).toMatchObject({ status: 200, body: { SignedIn: false, ConsoleKeyConfigured: false } });
    expect(await ask("/console/api/signin", json({ ConsoleKey: consoleKey }))).toMatchObject({
      status: 401,
      body: { ActionStatus: "FAIL", ErrorCode: 60010, ErrorInfo: "this deployment has no console key (IM_CONSOLE_KEY): only app operators can sign in" },
    });
    const v4 = await ask("/v4/edgeim_console_svc/list_apps", json({}, { authorization: `Bearer ${consoleKey}` }));
    expect(v4.body).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 60010 });
    // A deployment session from before the key was removed is no longer valid.
    const earlier = await issueSession(env, { role: "deployment", csrf: "t" });
    const listed = await ask("/console/api/edgeim_console_svc/list_apps", json({}, { cookie: `edgeim_console=${earlier.token}`, "x-csrf-token": "t" }));
    expect(listed).toMatchObject({ status: 401, body: { ErrorCode: 60010, ErrorInfo: "the session is not valid: sign in again" } });

    const app = await anApp();
    expect(await ask("/console/api/signin", json({ SdkAppId: app.sdkAppId, SecretKey: app.secretKey }))).toMatchObject({ status: 200, body: { Role: "App", SdkAppId: app.sdkAppId } });
  });
});
