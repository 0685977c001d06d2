/**
 * UserSig vectors made on the host before the runtime tests: by Tencent's own
 * Node libraries (tls-sig-api-v2, and tls-sig-api for v1), and by an
 * independent generator written from the reference algorithm with Node's
 * crypto and zlib for what those libraries cannot make (other zlib levels,
 * other JSON spacing, tampered and expired tokens). None of it shares code
 * with src/domain/usersig.ts.
 */
import { createRequire } from "node:module";
import { createHmac, createSign, generateKeyPairSync } from "node:crypto";
import { deflateSync } from "node:zlib";
import type { TestProject } from "vitest/node";

const require = createRequire(import.meta.url);
const TencentV2 = require("tls-sig-api-v2") as { Api: new (sdkappid: number, key: string) => TencentV2Api };
const TencentV1 = require("tls-sig-api") as { Sig: new (config: Record<string, unknown>) => TencentV1Sig };

interface TencentV2Api {
  genUserSig(userid: string, expire: number): string;
  genPrivateMapKey(userid: string, expire: number, roomid: number, privilegeMap: number): string;
}

interface TencentV1Sig {
  genSig(identifier: string): string;
  genSigWithUserbuf(identifier: string, userbuf: string): string;
}

export const vectorSdkAppId = 1400123456;
export const vectorSecretKey = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";

export interface UserSigVector {
  name: string;
  userSig: string;
  identifier: string;
  sdkAppId: number;
  /** 0 when it must verify, else the Tencent error code. */
  expect: number;
}

export interface UserSigVectors {
  sdkAppId: number;
  secretKey: string;
  publicKeyPem: string;
  vectors: UserSigVector[];
}

function urlSafe(buf: Buffer): string {
  return buf.toString("base64").replace(/\+/g, "*").replace(/\//g, "-").replace(/=/g, "_");
}

interface V2Options {
  identifier?: string;
  sdkAppId?: number;
  key?: string;
  time?: number;
  expire?: number;
  userbuf?: Buffer;
  level?: number;
  spacing?: string;
  /** Change the document after signing. */
  tamper?: (doc: Record<string, unknown>) => void;
}

function v2(o: V2Options = {}): string {
  const identifier = o.identifier ?? "alice";
  const sdkAppId = o.sdkAppId ?? vectorSdkAppId;
  const time = o.time ?? Math.floor(Date.now() / 1000);
  const expire = o.expire ?? 86400 * 180;
  let content = `TLS.identifier:${identifier}\nTLS.sdkappid:${sdkAppId}\nTLS.time:${time}\nTLS.expire:${expire}\n`;
  const doc: Record<string, unknown> = {
    "TLS.ver": "2.0",
    "TLS.identifier": identifier,
    "TLS.sdkappid": sdkAppId,
    "TLS.expire": expire,
    "TLS.time": time,
  };
  if (o.userbuf) {
    doc["TLS.userbuf"] = o.userbuf.toString("base64");
    content += `TLS.userbuf:${doc["TLS.userbuf"]}\n`;
  }
  doc["TLS.sig"] = createHmac("sha256", o.key ?? vectorSecretKey).update(content).digest("base64");
  o.tamper?.(doc);
  const json = JSON.stringify(doc, null, o.spacing);
  return urlSafe(deflateSync(Buffer.from(json), { level: o.level ?? 6 }));
}

function v1(privateKeyPem: string, o: { identifier?: string; time?: number; tamper?: boolean } = {}): string {
  const identifier = o.identifier ?? "alice";
  const time = String(o.time ?? Math.floor(Date.now() / 1000));
  const fields = {
    "TLS.appid_at_3rd": "0",
    "TLS.account_type": "0",
    "TLS.identifier": identifier,
    "TLS.sdk_appid": String(vectorSdkAppId),
    "TLS.time": time,
    "TLS.expire_after": "15552000",
  };
  const content = Object.entries(fields).map(([k, v]) => `${k}:${v}\n`).join("");
  const signature = createSign("SHA256").update(content).sign(privateKeyPem).toString("base64");
  const doc = { ...fields, "TLS.version": "201610110000", "TLS.sig": signature };
  if (o.tamper) doc["TLS.identifier"] = "mallory";
  return urlSafe(deflateSync(Buffer.from(JSON.stringify(doc))));
}

export default function setup(project: TestProject): void {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const privateKeyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const publicKeyPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const now = Math.floor(Date.now() / 1000);
  const ok = (name: string, userSig: string, identifier = "alice"): UserSigVector => ({ name, userSig, identifier, sdkAppId: vectorSdkAppId, expect: 0 });
  const bad = (name: string, expect: number, userSig: string, identifier = "alice", sdkAppId = vectorSdkAppId): UserSigVector => ({ name, userSig, identifier, sdkAppId, expect });

  const tencentV2 = new TencentV2.Api(vectorSdkAppId, vectorSecretKey);
  const tencentV1 = new TencentV1.Sig({ sdk_appid: vectorSdkAppId, private_key_string: privateKeyPem, public_key_string: publicKeyPem });
  const vectors: UserSigVector[] = [
    ok("Tencent's tls-sig-api-v2 genUserSig", tencentV2.genUserSig("alice", 86400)),
    ok("Tencent's tls-sig-api-v2 genPrivateMapKey (with a userbuf)", tencentV2.genPrivateMapKey("alice", 86400, 1234, 255)),
    ok("Tencent's tls-sig-api (v1) genSig", tencentV1.genSig("alice")),
    ok("Tencent's tls-sig-api (v1) genSigWithUserbuf", tencentV1.genSigWithUserbuf("alice", "room=9")),
    bad("Tencent's tls-sig-api-v2 genUserSig with another key", 70009, new TencentV2.Api(vectorSdkAppId, "another key").genUserSig("alice", 86400)),
    ok("v2 at zlib's default level", v2()),
    ...[0, 1, 9].map((level) => ok(`v2 at zlib level ${level}`, v2({ level }))),
    ok("v2 with a userbuf", v2({ userbuf: Buffer.from("room=42;role=host") })),
    ok("v2 with a binary userbuf", v2({ userbuf: Buffer.from([0, 255, 1, 254, 2]) })),
    ok("v2 with pretty-printed JSON", v2({ spacing: "  " })),
    ok("v2 for a long identifier", v2({ identifier: "user_0123456789-abcdefghijklmnop" }), "user_0123456789-abcdefghijklmnop"),
    ok("v2 signed an hour ago that is valid for ten more minutes", v2({ time: now - 3600, expire: 4200 })),
    ok("v1 ECDSA", v1(privateKeyPem)),
    bad("v2 that expired", 70001, v2({ time: now - 7200, expire: 3600 })),
    bad("v2 signed with another key", 70009, v2({ key: "not-the-apps-key" })),
    bad("v2 with a forged signature", 70009, v2({ tamper: (d) => (d["TLS.sig"] = Buffer.alloc(32, 7).toString("base64")) })),
    bad("v2 whose identifier was changed after signing", 70009, v2({ tamper: (d) => (d["TLS.identifier"] = "mallory") }), "mallory"),
    bad("v2 whose expiry was stretched after signing", 70009, v2({ time: now - 7200, expire: 3600, tamper: (d) => (d["TLS.expire"] = 999999) })),
    bad("v2 whose userbuf was changed after signing", 70009, v2({ userbuf: Buffer.from("role=guest"), tamper: (d) => (d["TLS.userbuf"] = Buffer.from("role=admin").toString("base64")) })),
    bad("v2 issued to someone else", 70013, v2({ identifier: "bob" })),
    bad("v2 issued for another app", 70014, v2({ sdkAppId: 1400999999 })),
    bad("v1 whose identifier was changed after signing", 70009, v1(privateKeyPem, { tamper: true }), "mallory"),
    bad("text that is not base64", 70003, "%%% not a usersig %%%"),
    bad("base64 that is not zlib", 70003, urlSafe(Buffer.from("plain text, not compressed"))),
    bad("zlib that is not JSON", 70003, urlSafe(deflateSync(Buffer.from("TLS.ver=2.0")))),
    bad("JSON with no version", 70003, urlSafe(deflateSync(Buffer.from(JSON.stringify({ "TLS.identifier": "alice" }))))),
    bad("zlib cut short", 70003, urlSafe(deflateSync(Buffer.from(JSON.stringify({ "TLS.ver": "2.0" }))).subarray(0, 12))),
  ];
  project.provide("userSigVectors", { sdkAppId: vectorSdkAppId, secretKey: vectorSecretKey, publicKeyPem, vectors });
}
