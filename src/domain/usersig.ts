/**
 * UserSig: Tencent's TLSSigAPIv2 (HMAC-SHA256) tokens, and verification of the
 * older v1 (ECDSA-SHA256 on P-256) tokens. Uses only Web APIs (WebCrypto,
 * CompressionStream), so the same code runs in Workers, browsers and Node 22+.
 */
import { ErrorCode, ImError } from "./errors.ts";

/** Tencent's tools sign for 180 days unless told otherwise. */
export const defaultUserSigExpireSeconds = 180 * 24 * 3600;

/** An inflated UserSig is a small JSON document; anything larger is not one. */
const maxInflatedBytes = 16 * 1024;

export interface UserSigClaims {
  identifier: string;
  sdkAppId: number;
  /** Unix seconds when it was signed. */
  time: number;
  /** Seconds of validity after `time`. */
  expire: number;
  /** Base64 user buffer, when the signer attached one. */
  userbuf?: string;
  version: 1 | 2;
}

export interface UserSigKeys {
  /** The app's secret key (v2, HMAC-SHA256). */
  secretKey?: string;
  /** The app's PEM public key (v1, ECDSA-SHA256 on P-256). */
  publicKey?: string;
}

export interface GenerateUserSigOptions {
  sdkAppId: number;
  secretKey: string;
  identifier: string;
  expireSeconds?: number;
  userbuf?: Uint8Array;
  /** Unix seconds; defaults to now. */
  now?: number;
}

/** Produces a TLSSigAPIv2 UserSig, byte-compatible with Tencent's own libraries. */
export async function generateUserSig(options: GenerateUserSigOptions): Promise<string> {
  if (!options.secretKey) throw new TypeError("generateUserSig needs the app's secret key");
  const time = options.now ?? Math.floor(Date.now() / 1000);
  const expire = options.expireSeconds ?? defaultUserSigExpireSeconds;
  const userbuf = options.userbuf ? bytesToBase64(options.userbuf) : undefined;
  const claims = { identifier: options.identifier, sdkAppId: options.sdkAppId, time, expire, userbuf };
  const sig = await hmacBase64(options.secretKey, v2Content(claims));
  const doc: Record<string, string | number> = {
    "TLS.ver": "2.0",
    "TLS.identifier": options.identifier,
    "TLS.sdkappid": options.sdkAppId,
    "TLS.expire": expire,
    "TLS.time": time,
    "TLS.sig": sig,
  };
  if (userbuf !== undefined) doc["TLS.userbuf"] = userbuf;
  const compressed = await deflate(utf8(JSON.stringify(doc)));
  return toUrlSafe(bytesToBase64(compressed));
}

export interface VerifyUserSigOptions extends UserSigKeys {
  sdkAppId: number;
  identifier: string;
  /** Unix seconds; defaults to now. */
  now?: number;
}

/**
 * Verifies a UserSig for (sdkAppId, identifier). Resolves with its claims or
 * rejects with an ImError carrying Tencent's code for what is wrong.
 */
export async function verifyUserSig(userSig: string, options: VerifyUserSigOptions): Promise<UserSigClaims> {
  if (userSig.length === 0) throw new ImError(ErrorCode.userSigEmpty, "UserSig is empty");
  const doc = await decodeUserSig(userSig);
  const claims = readClaims(doc);

  if (claims.identifier !== options.identifier) {
    throw new ImError(
      ErrorCode.userSigIdentifierMismatch,
      `UserSig was issued to identifier "${claims.identifier}", not "${options.identifier}"`,
    );
  }
  if (claims.sdkAppId !== options.sdkAppId) {
    throw new ImError(
      ErrorCode.userSigSdkAppIdMismatch,
      `UserSig was issued for SDKAppID ${claims.sdkAppId}, not ${options.sdkAppId}`,
    );
  }
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (now > claims.time + claims.expire) {
    throw new ImError(ErrorCode.userSigExpired, "UserSig has expired");
  }

  const valid = claims.version === 2 ? await checkV2(doc, claims, options.secretKey) : await checkV1(doc, options.publicKey);
  if (!valid) throw new ImError(ErrorCode.userSigVerifyFailed, "UserSig signature does not match the app's key");
  return claims;
}

// ---- v2 (HMAC-SHA256) ----

function v2Content(c: { identifier: string; sdkAppId: number | string; time: number | string; expire: number | string; userbuf?: string }): string {
  let content =
    `TLS.identifier:${c.identifier}\n` +
    `TLS.sdkappid:${c.sdkAppId}\n` +
    `TLS.time:${c.time}\n` +
    `TLS.expire:${c.expire}\n`;
  if (c.userbuf !== undefined) content += `TLS.userbuf:${c.userbuf}\n`;
  return content;
}

async function checkV2(doc: Record<string, unknown>, claims: UserSigClaims, secretKey: string | undefined): Promise<boolean> {
  if (!secretKey) return false;
  const sig = doc["TLS.sig"];
  if (typeof sig !== "string") throw invalid("it has no TLS.sig");
  // The signed text uses the values exactly as the signer wrote them.
  const content = v2Content({
    identifier: claims.identifier,
    sdkAppId: doc["TLS.sdkappid"] as number | string,
    time: doc["TLS.time"] as number | string,
    expire: doc["TLS.expire"] as number | string,
    userbuf: claims.userbuf,
  });
  const key = await crypto.subtle.importKey("raw", utf8(secretKey), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  let expected: Uint8Array<ArrayBuffer>;
  try {
    expected = base64ToBytes(sig);
  } catch {
    return false;
  }
  // subtle.verify compares in constant time.
  return crypto.subtle.verify("HMAC", key, expected, utf8(content));
}

async function hmacBase64(secretKey: string, content: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", utf8(secretKey), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return bytesToBase64(new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8(content))));
}

// ---- v1 (ECDSA-SHA256, P-256) ----

async function checkV1(doc: Record<string, unknown>, publicKeyPem: string | undefined): Promise<boolean> {
  if (!publicKeyPem) return false;
  const field = (name: string) => {
    const value = doc[name];
    if (typeof value !== "string" && typeof value !== "number") throw invalid(`it has no ${name}`);
    return String(value);
  };
  // As Tencent's v1 library signs: appid_at_3rd only when present, userbuf last when present.
  const names = [
    ...("TLS.appid_at_3rd" in doc ? ["TLS.appid_at_3rd"] : []),
    "TLS.account_type",
    "TLS.identifier",
    "TLS.sdk_appid",
    "TLS.time",
    "TLS.expire_after",
    ...("TLS.userbuf" in doc ? ["TLS.userbuf"] : []),
  ];
  const content = names.map((name) => `${name}:${field(name)}\n`).join("");
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("spki", pemToDer(publicKeyPem), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  } catch {
    throw new ImError(ErrorCode.userSigVerifyFailed, "the app's v1 public key is not a P-256 public key in PEM form");
  }
  let raw: Uint8Array<ArrayBuffer>;
  try {
    raw = derSignatureToRaw(base64ToBytes(field("TLS.sig")));
  } catch {
    return false;
  }
  return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, raw, utf8(content));
}

/** WebCrypto wants ECDSA signatures as r‖s (32 bytes each); v1 carries ASN.1 DER. */
function derSignatureToRaw(der: Uint8Array): Uint8Array<ArrayBuffer> {
  let offset = 0;
  const expect = (tag: number) => {
    if (der[offset++] !== tag) throw new Error("not a DER ECDSA signature");
  };
  const length = () => {
    let len = der[offset++]!;
    if (len & 0x80) {
      const count = len & 0x7f;
      len = 0;
      for (let i = 0; i < count; i++) len = (len << 8) | der[offset++]!;
    }
    return len;
  };
  expect(0x30);
  length();
  const integer = () => {
    expect(0x02);
    const len = length();
    let bytes = der.subarray(offset, offset + len);
    offset += len;
    while (bytes.length > 32 && bytes[0] === 0) bytes = bytes.subarray(1);
    if (bytes.length > 32) throw new Error("integer too long for P-256");
    const out = new Uint8Array(32);
    out.set(bytes, 32 - bytes.length);
    return out;
  };
  const raw = new Uint8Array(64);
  raw.set(integer(), 0);
  raw.set(integer(), 32);
  return raw;
}

function pemToDer(pem: string): Uint8Array<ArrayBuffer> {
  const body = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, "").replace(/\s+/g, "");
  return base64ToBytes(body);
}

// ---- decoding ----

async function decodeUserSig(userSig: string): Promise<Record<string, unknown>> {
  let compressed: Uint8Array<ArrayBuffer>;
  try {
    compressed = base64ToBytes(fromUrlSafe(userSig));
  } catch {
    throw invalid("it is not base64");
  }
  let inflated: Uint8Array | undefined;
  try {
    inflated = await inflate(compressed, maxInflatedBytes);
  } catch {
    throw invalid("it is not zlib-compressed");
  }
  if (!inflated) throw invalid(`it is too large: it inflates to more than ${maxInflatedBytes} bytes`);
  let json: string;
  try {
    json = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(inflated);
  } catch {
    throw invalid("it does not hold UTF-8 text");
  }
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw invalid("it does not hold JSON");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw invalid("it does not hold a JSON object");
  return doc as Record<string, unknown>;
}

function readClaims(doc: Record<string, unknown>): UserSigClaims {
  const isV2 = doc["TLS.ver"] === "2.0";
  const isV1 = !isV2 && typeof doc["TLS.version"] === "string";
  if (!isV2 && !isV1) throw invalid("it names no known version");
  const identifier = doc["TLS.identifier"];
  if (typeof identifier !== "string") throw invalid("it has no TLS.identifier");
  const number = (name: string) => {
    const value = doc[name];
    const n = typeof value === "number" ? value : typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < 0) throw invalid(`${name} is not a number`);
    return n;
  };
  const userbuf = doc["TLS.userbuf"];
  if (userbuf !== undefined && typeof userbuf !== "string") throw invalid("TLS.userbuf is not a string");
  return isV2
    ? { version: 2, identifier, sdkAppId: number("TLS.sdkappid"), time: number("TLS.time"), expire: number("TLS.expire"), userbuf }
    : { version: 1, identifier, sdkAppId: number("TLS.sdk_appid"), time: number("TLS.time"), expire: number("TLS.expire_after"), userbuf };
}

function invalid(why: string): ImError {
  return new ImError(ErrorCode.userSigInvalid, `UserSig is malformed: ${why}`);
}

// ---- bytes ----

function utf8(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>;
}

function toUrlSafe(base64: string): string {
  return base64.replace(/\+/g, "*").replace(/\//g, "-").replace(/=/g, "_");
}

function fromUrlSafe(sig: string): string {
  return sig.replace(/\*/g, "+").replace(/-/g, "/").replace(/_/g, "=");
}

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

export function base64ToBytes(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function deflate(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Inflates zlib data; undefined as soon as the output passes `limit` bytes (a zlib bomb stops here). */
async function inflate(bytes: Uint8Array<ArrayBuffer>, limit: number): Promise<Uint8Array | undefined> {
  const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate")).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
