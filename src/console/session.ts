/**
 * Console sessions: a short-lived HS256 token (jose) in an HttpOnly, SameSite=Strict cookie,
 * Secure on https. A deployment session is signed with a key derived from IM_CONSOLE_KEY, an app
 * operator's with one derived from the app's secret key, so rotating either key ends the
 * sessions it signed. The token carries a CSRF value that state-changing calls send back in a
 * header: a page of another origin can make the browser send the cookie, never read the value.
 */
import { decodeJwt, jwtVerify, SignJWT, errors } from "jose";
import { appActor } from "../actors/refs.ts";
import { SessionClaims, sessionSeconds } from "../domain/console.ts";
import type { Env } from "../env.ts";

export const cookieName = "edgeim_console";
const issuer = "edge-im console";

async function keyFrom(secret: string): Promise<Uint8Array> {
  const hmac = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", hmac, new TextEncoder().encode("edge-im console session v1")));
}

/** The secret a session of this kind is signed with, or undefined when there is none. */
async function secretFor(env: Env, claims: Record<string, unknown>): Promise<string | undefined> {
  if (claims.role === "deployment") return env.IM_CONSOLE_KEY || undefined;
  if (claims.role === "app" && typeof claims.app === "number" && Number.isSafeInteger(claims.app) && claims.app > 0) {
    return (await appActor(env, claims.app).appWithKeys(claims.app))?.secretKey;
  }
  return undefined;
}

export function newCsrfToken(): string {
  return [...crypto.getRandomValues(new Uint8Array(24))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Signs a session; resolves with the token and when it expires (unix seconds). */
export async function issueSession(env: Env, claims: SessionClaims, now = Math.floor(Date.now() / 1000)): Promise<{ token: string; expiresAt: number }> {
  const secret = await secretFor(env, claims);
  if (!secret) throw new Error("no key to sign the session with");
  const expiresAt = now + sessionSeconds;
  const token = await new SignJWT({ ...claims })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(issuer)
    .setIssuedAt(now)
    .setExpirationTime(expiresAt)
    .sign(await keyFrom(secret));
  return { token, expiresAt };
}

export type SessionCheck = { ok: true; claims: SessionClaims; expiresAt: number } | { ok: false; reason: string };

/** The request's session, or why there is none that counts. */
export async function readSession(env: Env, request: Request): Promise<SessionCheck> {
  const token = cookieValue(request.headers.get("Cookie"), cookieName);
  if (!token) return { ok: false, reason: "not signed in: sign in to the console first" };
  let unverified: ReturnType<typeof decodeJwt>;
  try {
    unverified = decodeJwt(token);
  } catch {
    return { ok: false, reason: "the session is not valid: sign in again" };
  }
  const secret = await secretFor(env, unverified);
  if (!secret) return { ok: false, reason: "the session is not valid: sign in again" };
  try {
    const { payload } = await jwtVerify(token, await keyFrom(secret), { algorithms: ["HS256"], issuer });
    const claims = SessionClaims.safeParse(payload);
    if (!claims.success || payload.exp === undefined) return { ok: false, reason: "the session is not valid: sign in again" };
    return { ok: true, claims: claims.data, expiresAt: payload.exp };
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, reason: "the session expired: sign in again" };
    return { ok: false, reason: "the session is not valid: sign in again" };
  }
}

export function sessionCookie(token: string, secure: boolean): string {
  return `${cookieName}=${token}; Path=/console/; Max-Age=${sessionSeconds}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

export function clearedCookie(secure: boolean): string {
  return `${cookieName}=; Path=/console/; Max-Age=0; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

function cookieValue(header: string | null, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}
