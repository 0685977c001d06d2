/**
 * The console door: the page at /console/ (static assets) calls /console/api/… with its session
 * cookie. Every command it runs is a REST command of `rest/commands.ts`, run through the same
 * table and envelope as /v4; only the way the caller proves who it is differs.
 *
 *   GET  /console/api/session                         who is signed in, and the CSRF token
 *   POST /console/api/signin                          {ConsoleKey} or {SdkAppId, SecretKey}
 *   POST /console/api/signout
 *   POST /console/api/{service}/{command}?sdkappid=N  a command for app N (edgeim_console_svc: none)
 */
import { Hono, type Context } from "hono";
import { appActor } from "../actors/refs.ts";
import { SdkAppId } from "../domain/app.ts";
import { scopeProblem, sessionSeconds, type SessionClaims } from "../domain/console.ts";
import { ErrorCode, ImError } from "../domain/errors.ts";
import type { Env } from "../env.ts";
import { meteredD1 } from "../ops/d1Meter.ts";
import { logEvent } from "../ops/log.ts";
import { findCommand, findDeploymentCommand } from "../rest/commands.ts";
import { clientIpOf, readCommandBody, readJsonBody, respond } from "../rest/door.ts";
import { checkAppKey, checkConsoleKey, clientAddress } from "./keys.ts";
import { clearedCookie, issueSession, newCsrfToken, readSession, sessionCookie } from "./session.ts";
import { z } from "zod";

type Ctx = Context<{ Bindings: Env }>;

export const consoleDoor = new Hono<{ Bindings: Env }>();

consoleDoor.get("/console", (c) => c.redirect("/console/", 301));

/** A refusal of the console itself (not of a command): an HTTP status and Tencent's envelope. */
function refuse(c: Ctx, status: 400 | 401 | 403 | 404 | 429, code: number, info: string): Response {
  logEvent({ event: "console_refused", path: new URL(c.req.url).pathname, status, code, info });
  return c.json({ ActionStatus: "FAIL", ErrorCode: code, ErrorInfo: info }, status);
}

function isHttps(c: Ctx): boolean {
  return new URL(c.req.url).protocol === "https:";
}

/**
 * A state-changing call must come from the console's own page: JSON (which a form of another
 * site cannot send without asking), and, when the browser names an origin, this one.
 */
function crossSiteProblem(c: Ctx): string | undefined {
  const origin = c.req.header("Origin");
  if (origin !== undefined && origin !== new URL(c.req.url).origin) return `requests from ${origin} are not accepted`;
  const site = c.req.header("Sec-Fetch-Site");
  if (site !== undefined && site !== "same-origin" && site !== "none") return "requests from other sites are not accepted";
  if (!(c.req.header("Content-Type") ?? "").startsWith("application/json")) return "send the body as application/json";
  return undefined;
}

consoleDoor.get("/console/api/session", async (c) => {
  c.header("Cache-Control", "no-store");
  const session = await readSession(c.env, c.req.raw);
  const consoleKeyConfigured = Boolean(c.env.IM_CONSOLE_KEY);
  if (!session.ok) return c.json({ SignedIn: false, ConsoleKeyConfigured: consoleKeyConfigured, ErrorInfo: session.reason });
  const { claims } = session;
  return c.json({
    SignedIn: true,
    ConsoleKeyConfigured: consoleKeyConfigured,
    Role: claims.role === "deployment" ? "Deployment" : "App",
    SdkAppId: claims.role === "app" ? claims.app : undefined,
    CsrfToken: claims.csrf,
    ExpireTime: session.expiresAt,
  });
});

const SignIn = z.union([
  z.object({ ConsoleKey: z.string().min(1).max(512) }),
  z.object({ SdkAppId: SdkAppId, SecretKey: z.string().min(1).max(512) }),
]);

/** A sign-in body is two short fields; anything longer is refused unread. */
const maxSignInBytes = 4096;

consoleDoor.post("/console/api/signin", async (c) => {
  const crossSite = crossSiteProblem(c);
  if (crossSite) return refuse(c, 403, ErrorCode.notAppAdmin, crossSite);
  const length = Number(c.req.header("Content-Length") ?? "0");
  if (!(length <= maxSignInBytes)) return refuse(c, 400, ErrorCode.httpParse, `a sign-in body is at most ${maxSignInBytes} bytes`);
  // A body without a length (chunked) is cut off at the same bound as it streams.
  let raw: unknown;
  try {
    raw = await readJsonBody(c.req.raw, maxSignInBytes);
  } catch (error) {
    if (error instanceof ImError && error.code === ErrorCode.httpParse) return refuse(c, 400, ErrorCode.httpParse, `a sign-in body is at most ${maxSignInBytes} bytes`);
    raw = null;
  }
  const body = SignIn.safeParse(raw);
  if (!body.success) return refuse(c, 400, ErrorCode.jsonParse, "send {ConsoleKey} to sign in as the deployment's operator, or {SdkAppId, SecretKey} as an app's");
  let claims: SessionClaims;
  try {
    if ("ConsoleKey" in body.data) {
      await checkConsoleKey(c.env, body.data.ConsoleKey, clientAddress(c.req.raw));
      claims = { role: "deployment", csrf: newCsrfToken() };
    } else {
      const app = await checkAppKey(c.env, body.data.SdkAppId, body.data.SecretKey, clientAddress(c.req.raw));
      claims = { role: "app", app: app.sdkAppId, csrf: newCsrfToken() };
    }
  } catch (error) {
    if (!(error instanceof ImError)) throw error;
    const status = error.code === ErrorCode.restRateLimited ? 429 : error.code === ErrorCode.appDisabled ? 403 : 401;
    return refuse(c, status, error.code, error.message);
  }
  const { token, expiresAt } = await issueSession(c.env, claims);
  c.header("Set-Cookie", sessionCookie(token, isHttps(c)));
  c.header("Cache-Control", "no-store");
  return c.json({
    ActionStatus: "OK",
    ErrorCode: 0,
    ErrorInfo: "",
    Role: claims.role === "deployment" ? "Deployment" : "App",
    SdkAppId: claims.role === "app" ? claims.app : undefined,
    CsrfToken: claims.csrf,
    ExpireTime: expiresAt,
  });
});

consoleDoor.post("/console/api/signout", async (c) => {
  const checked = await checkedSession(c);
  if ("refusal" in checked) return checked.refusal;
  c.header("Set-Cookie", clearedCookie(isHttps(c)));
  return c.json({ ActionStatus: "OK", ErrorCode: 0, ErrorInfo: "" });
});

/** The session of a state-changing call: signed, unexpired, from this site, with its CSRF token. */
async function checkedSession(c: Ctx): Promise<{ claims: SessionClaims; expiresAt: number } | { refusal: Response }> {
  const crossSite = crossSiteProblem(c);
  if (crossSite) return { refusal: refuse(c, 403, ErrorCode.notAppAdmin, crossSite) };
  const session = await readSession(c.env, c.req.raw);
  if (!session.ok) return { refusal: refuse(c, 401, ErrorCode.notAppAdmin, session.reason) };
  if (c.req.header("X-CSRF-Token") !== session.claims.csrf) {
    return { refusal: refuse(c, 403, ErrorCode.notAppAdmin, "the X-CSRF-Token header is missing or does not match this session: reload the console") };
  }
  return { claims: session.claims, expiresAt: session.expiresAt };
}

consoleDoor.post("/console/api/:service/:command", async (c) => {
  const checked = await checkedSession(c);
  if ("refusal" in checked) return checked.refusal;
  const { claims, expiresAt } = checked;
  const service = c.req.param("service");
  const name = c.req.param("command");
  const commandName = `${service}/${name}`;
  const command = findCommand(service, name);
  const deployment = command ? undefined : findDeploymentCommand(service, name);
  if (!command && !deployment) return refuse(c, 404, ErrorCode.badUrl, `no command "${commandName}"`);

  let sdkAppId: number | undefined;
  if (command) {
    const raw = new URL(c.req.url).searchParams.get("sdkappid");
    if (!raw) return refuse(c, 400, ErrorCode.sdkAppIdMissing, "sdkappid is missing from the URL");
    const parsed = /^\d+$/.test(raw) ? SdkAppId.safeParse(raw) : undefined;
    if (!parsed?.success) return refuse(c, 400, ErrorCode.sdkAppIdInvalid, `sdkappid "${raw}" is not a SDKAppID`);
    sdkAppId = parsed.data;
    const problem = scopeProblem(claims, sdkAppId);
    if (problem) return refuse(c, 403, ErrorCode.notAppAdmin, problem);
  } else if (claims.role !== "deployment") {
    return refuse(c, 403, ErrorCode.notAppAdmin, `${commandName} is for the deployment's operator; this session belongs to app ${claims.role === "app" ? claims.app : ""}`);
  }

  // A session with less than half its time left is renewed with the same CSRF token.
  if (expiresAt - Date.now() / 1000 < sessionSeconds / 2) {
    const renewed = await issueSession(c.env, claims);
    c.header("Set-Cookie", sessionCookie(renewed.token, isHttps(c)));
  }
  const caller = claims.role === "deployment" ? "console" : `console:${claims.app}`;
  return respond(c, { commandName, service, errorDisplay: command?.errorDisplay, door: "console" }, async (log, d1) => {
    log.app = sdkAppId;
    log.caller = caller;
    const env = { ...c.env, DB: meteredD1(c.env.DB, d1) };
    const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
    const host = new URL(c.req.url).host;
    if (deployment) return deployment.handle({ env, host, waitUntil }, await readCommandBody(c.req.raw, deployment));
    // The deployment's operator may still reach a disabled app's own settings, to enable it again.
    const allowDisabled = claims.role === "deployment" && service === "edgeim_admin_svc";
    const grant = await appActor(c.env, sdkAppId!).authorizeConsole(sdkAppId!, commandName, { allowDisabled });
    if (!grant.ok) throw new ImError(grant.code, grant.info);
    const body = await readCommandBody(c.req.raw, command!);
    // The console acts as the app's first admin, as the app's backend would.
    return command!.handle({ env, app: grant.app, caller: grant.app.admins[0] ?? "administrator", host, ...clientIpOf(c.req.raw), waitUntil }, body);
  });
});

// Anything else under /console/api (another method, another path) is answered in the envelope too.
consoleDoor.all("/console/api/*", (c) => refuse(c, 404, ErrorCode.badUrl, `no console call ${c.req.method} ${new URL(c.req.url).pathname}; commands are POST /console/api/{service}/{command}`));
