import { env } from "cloudflare:test";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { ImError } from "../../src/domain/errors.ts";
import { generateUserSig, verifyUserSig } from "../../src/domain/usersig.ts";
import { createApp, findApp } from "../../src/store/apps.ts";
import { anApp, call } from "./helpers.ts";

const { sdkAppId, secretKey, publicKeyPem, vectors } = inject("userSigVectors");

async function outcome(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 0;
  } catch (error) {
    if (error instanceof ImError) return error.code;
    throw error;
  }
}

describe("UserSig verification against an independent Node generator", () => {
  it.each(vectors.map((v) => [v.name, v] as const))("%s", async (_name, vector) => {
    const code = await outcome(
      verifyUserSig(vector.userSig, { sdkAppId: vector.sdkAppId, identifier: vector.identifier, secretKey, publicKey: publicKeyPem }),
    );
    expect(code).toBe(vector.expect);
  });

  it("rejects an empty UserSig with 70002", async () => {
    expect(await outcome(verifyUserSig("", { sdkAppId, identifier: "alice", secretKey }))).toBe(70002);
  });

  it("rejects a v1 UserSig when the app has no public key", async () => {
    const v1 = vectors.find((v) => v.name === "v1 ECDSA")!;
    expect(await outcome(verifyUserSig(v1.userSig, { sdkAppId, identifier: "alice", secretKey }))).toBe(70009);
  });

  it("rejects a v2 UserSig when the app only has a v1 public key", async () => {
    const v2 = vectors.find((v) => v.name === "v2 at zlib's default level")!;
    expect(await outcome(verifyUserSig(v2.userSig, { sdkAppId, identifier: "alice", publicKey: publicKeyPem }))).toBe(70009);
  });
});

describe("UserSig generation", () => {
  it("produces what verification accepts, with the claims it was given", async () => {
    const userSig = await generateUserSig({ sdkAppId, secretKey, identifier: "carol", expireSeconds: 600, now: 1_700_000_000 });
    const claims = await verifyUserSig(userSig, { sdkAppId, identifier: "carol", secretKey, now: 1_700_000_300 });
    expect(claims).toMatchObject({ identifier: "carol", sdkAppId, time: 1_700_000_000, expire: 600, version: 2 });
  });

  it("uses only the URL-safe alphabet Tencent maps to", async () => {
    const userSig = await generateUserSig({ sdkAppId, secretKey, identifier: "carol" });
    expect(userSig).toMatch(/^[A-Za-z0-9*\-_]+$/);
  });

  it("signs a userbuf into the token", async () => {
    const userSig = await generateUserSig({ sdkAppId, secretKey, identifier: "carol", userbuf: new TextEncoder().encode("room=7") });
    const claims = await verifyUserSig(userSig, { sdkAppId, identifier: "carol", secretKey });
    expect(atob(claims.userbuf!)).toBe("room=7");
  });

  it("expires after the given number of seconds", async () => {
    const userSig = await generateUserSig({ sdkAppId, secretKey, identifier: "carol", expireSeconds: 60, now: 1_700_000_000 });
    expect(await outcome(verifyUserSig(userSig, { sdkAppId, identifier: "carol", secretKey, now: 1_700_000_060 }))).toBe(0);
    expect(await outcome(verifyUserSig(userSig, { sdkAppId, identifier: "carol", secretKey, now: 1_700_000_061 }))).toBe(70001);
  });
});

describe("UserSig at the REST door", () => {
  beforeAll(async () => {
    if (!(await findApp(env.DB, sdkAppId))) {
      await createApp(env.DB, { sdkAppId, secretKey, publicKey: publicKeyPem, admins: [...new Set(vectors.map((v) => v.identifier))] });
    }
  });

  it.each(vectors.filter((v) => v.sdkAppId === sdkAppId).map((v) => [v.name, v] as const))("%s", async (_name, vector) => {
    const query = `sdkappid=${sdkAppId}&identifier=${vector.identifier}&usersig=${encodeURIComponent(vector.userSig)}&random=1&contenttype=json`;
    const answer = await call(`/v4/im_open_login_svc/account_check?${query}`, JSON.stringify({ CheckItem: [{ UserID: "x" }] }));
    expect(answer.status).toBe(200);
    expect(answer.body.ErrorCode).toBe(vector.expect);
    expect(answer.body.ActionStatus).toBe(vector.expect === 0 ? "OK" : "FAIL");
  });

  it("does not accept one app's admin UserSig for another app", async () => {
    const a = await anApp();
    const b = await anApp();
    const query = `sdkappid=${b.sdkAppId}&identifier=${a.admin}&usersig=${encodeURIComponent(await a.sig())}&random=1&contenttype=json`;
    const answer = await call(`/v4/im_open_login_svc/account_check?${query}`, JSON.stringify({ CheckItem: [{ UserID: "x" }] }));
    expect(answer.body.ErrorCode).toBe(70014);
  });
});

describe("UserSig that inflates past its limit (a zlib bomb)", () => {
  /** A valid zlib stream of `megabytes` MB of "{" characters, in the URL-safe alphabet. */
  async function zlibBomb(megabytes: number): Promise<string> {
    const chunk = new Uint8Array(1024 * 1024).fill(0x7b);
    let sent = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < megabytes) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const compressed = new Uint8Array(await new Response(source.pipeThrough(new CompressionStream("deflate"))).arrayBuffer());
    let binary = "";
    for (const byte of compressed) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, "*").replace(/\//g, "-").replace(/=/g, "_");
  }

  it("is refused quickly with 70003, saying it is too large", async () => {
    const bomb = await zlibBomb(20);
    const started = Date.now();
    const refusal = await verifyUserSig(bomb, { sdkAppId, identifier: "alice", secretKey }).catch((error: unknown) => error);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(refusal).toBeInstanceOf(ImError);
    expect((refusal as ImError).code).toBe(70003);
    expect((refusal as ImError).message).toMatch(/too large/);
  });

  it("gets the same answer at the REST door", async () => {
    const app = await anApp();
    const answer = await app.rest("im_open_login_svc/account_check", { CheckItem: [{ UserID: "x" }] }, { userSig: await zlibBomb(20) });
    expect(answer.body).toMatchObject({ ErrorCode: 70003, ErrorInfo: expect.stringMatching(/too large/) });
  });
});
