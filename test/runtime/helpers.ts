/** Small fixtures for runtime tests: apps, signed REST calls. */
import { env, SELF } from "cloudflare:test";
import { generateUserSig } from "../../src/domain/usersig.ts";
import { createApp, type NewApp } from "../../src/store/apps.ts";
import type { AppSettings } from "../../src/domain/app.ts";

export interface TestApp {
  sdkAppId: number;
  secretKey: string;
  admin: string;
  /** A UserSig for `identifier` in this app. */
  sig(identifier?: string, expireSeconds?: number): Promise<string>;
  /** A REST call signed by the app's admin (or `as`). */
  rest(path: string, body: unknown, options?: RestOptions): Promise<RestAnswer>;
}

export interface RestOptions {
  as?: string;
  userSig?: string;
  /** Replaces the query string entirely. */
  query?: string;
  method?: string;
  rawBody?: BodyInit;
}

export interface RestAnswer {
  status: number;
  body: { ActionStatus: "OK" | "FAIL"; ErrorCode: number; ErrorInfo: string; [field: string]: unknown };
}

/** The default app, configured from wrangler.toml [vars] and the test secret. */
export function defaultApp(): TestApp {
  return testApp(Number(env.IM_SDKAPPID), env.IM_SECRET_KEY!, env.IM_ADMIN);
}

let appCounter = 0;

/** A fresh app of its own, so a test never sees another test's data. */
export async function anApp(init: Partial<NewApp> & { settings?: Partial<AppSettings> } = {}): Promise<TestApp> {
  const sdkAppId = init.sdkAppId ?? 1_450_000_000 + (Date.now() % 1_000_000) * 10 + (appCounter++ % 10);
  const app = await createApp(env.DB, { admins: ["admin"], ...init, sdkAppId });
  return testApp(app.sdkAppId, app.secretKey ?? "", app.admins[0]!);
}

function testApp(sdkAppId: number, secretKey: string, admin: string): TestApp {
  const sig = (identifier = admin, expireSeconds?: number) => generateUserSig({ sdkAppId, secretKey, identifier, expireSeconds });
  return {
    sdkAppId,
    secretKey,
    admin,
    sig,
    async rest(path, body, options = {}) {
      const identifier = options.as ?? admin;
      const userSig = options.userSig ?? (await sig(identifier));
      const query =
        options.query ??
        `sdkappid=${sdkAppId}&identifier=${encodeURIComponent(identifier)}&usersig=${encodeURIComponent(userSig)}&random=${Math.floor(Math.random() * 2 ** 32)}&contenttype=json`;
      return call(`/v4/${path}?${query}`, options.rawBody ?? JSON.stringify(body), options.method);
    },
  };
}

export async function call(pathAndQuery: string, body?: BodyInit, method = "POST"): Promise<RestAnswer> {
  const response = await SELF.fetch(`https://im.example${pathAndQuery}`, {
    method,
    body: method === "GET" || method === "HEAD" ? undefined : body,
    headers: { "content-type": "application/json" },
  });
  return { status: response.status, body: (await response.json()) as RestAnswer["body"] };
}

let userCounter = 0;

/** A user id unique within the test run. */
export function aUserId(prefix = "user"): string {
  return `${prefix}_${Date.now().toString(36)}_${userCounter++}`;
}

/** A fresh app with `count` imported users. */
export async function appWithUsers(count: number, settings: Partial<AppSettings> = {}): Promise<{ app: TestApp; ids: string[] }> {
  const app = await anApp({ settings });
  const ids = Array.from({ length: count }, (_, i) => aUserId(`u${i}`));
  for (let i = 0; i < ids.length; i += 100) await app.rest("im_open_login_svc/multiaccount_import", { Accounts: ids.slice(i, i + 100) });
  return { app, ids };
}

/** A fresh app with two imported users, a and b. */
export async function twoUsers(settings: Partial<AppSettings> = {}): Promise<{ app: TestApp; a: string; b: string }> {
  const { app, ids } = await appWithUsers(2, settings);
  return { app, a: ids[0]!, b: ids[1]! };
}
