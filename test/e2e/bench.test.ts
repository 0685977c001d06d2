/** What the benchmarks stand on: a server with a key of its own, and the usage counters of wrangler dev. */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readDefaultAppConfig, type DefaultAppConfig } from "../../scripts/config.ts";
import { repoRoot, startServerWithOwnKey, type RunningServer } from "../../scripts/dev-server.ts";
import { generateUserSig } from "../../src/domain/usersig.ts";
import { aRandom, ProtocolClient, text } from "../support/protocol-client.ts";

describe("a benchmark's server", () => {
  let server: RunningServer;
  let app: Required<DefaultAppConfig>;

  const sig = (userId: string, secretKey = app.secretKey) => generateUserSig({ sdkAppId: app.sdkAppId, secretKey, identifier: userId });

  async function rest(path: string, body: unknown, secretKey = app.secretKey): Promise<{ ErrorCode: number }> {
    const admin = app.admins[0]!;
    const url = `${server.base}/v4/${path}?sdkappid=${app.sdkAppId}&identifier=${admin}&usersig=${await sig(admin, secretKey)}&random=1&contenttype=json`;
    return (await (await fetch(url, { method: "POST", body: JSON.stringify(body) })).json()) as { ErrorCode: number };
  }

  async function usage(users: string[]): Promise<{ frames: number; calls: number; rowsWritten: number }> {
    const response = await fetch(`${server.base}/local/usage`, { method: "POST", body: JSON.stringify({ sdkAppId: app.sdkAppId, users }) });
    expect(response.status).toBe(200);
    return (await response.json()) as { frames: number; calls: number; rowsWritten: number };
  }

  beforeAll(async () => {
    ({ server, app } = await startServerWithOwnKey());
  });
  afterAll(async () => {
    await ProtocolClient.closeAll();
    await server?.stop();
  });

  it("serves the default app under a key of its own, whatever .dev.vars holds", async () => {
    expect((await rest("im_open_login_svc/multiaccount_import", { Accounts: ["bench_a", "bench_b"] })).ErrorCode).toBe(0);
    const devVarsKey = readDefaultAppConfig(repoRoot).secretKey ?? "a key this server does not have";
    expect((await rest("im_open_login_svc/account_check", { CheckItem: [{ UserID: "bench_a" }] }, devVarsKey)).ErrorCode).not.toBe(0);
  });

  it("counts a message sent over a socket as one frame into the sender's actor, one call into the recipient's and 13 rows written", async () => {
    const ws = new WebSocket(`${server.base.replace("http", "ws")}/v1/connect?sdkappid=${app.sdkAppId}&userid=bench_a&platform=Web&device=e2e`);
    await new Promise((resolve) => ws.addEventListener("open", resolve, { once: true }));
    const sender = new ProtocolClient(ws, "bench_a");
    await sender.call("login", { userSig: await sig("bench_a") });
    await sender.call("sendMessage", { to: "bench_b", random: aRandom(), body: text("opens the conversation") });
    const before = await usage(["bench_a", "bench_b"]);
    for (let i = 0; i < 5; i++) await sender.call("sendMessage", { to: "bench_b", random: aRandom(), body: text(`#${i}`) });
    const after = await usage(["bench_a", "bench_b"]);
    expect({ frames: after.frames - before.frames, calls: after.calls - before.calls, rowsWritten: after.rowsWritten - before.rowsWritten }).toEqual({
      frames: 5,
      calls: 5,
      rowsWritten: 65,
    });
  });
});

describe("npm run bench:group", () => {
  it("runs small in seconds and prints what it measured: every message to every online member once, the cost per message counted", async () => {
    const args = ["--members", "30", "--online", "8", "--senders", "2", "--rate", "5", "--seconds", "2"];
    args.push("--community-members", "120", "--community-online", "10", "--community-rate", "5", "--big-members", "150", "--groups", "6");
    const { stdout } = await promisify(execFile)(process.execPath, [join(repoRoot, "bench", "group.ts"), ...args], {
      cwd: repoRoot,
      env: { ...process.env, X_LOCAL_OBSERVABILITY: "false", WRANGLER_SEND_METRICS: "false" },
      maxBuffer: 16 * 1024 * 1024,
    });
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!);
    for (const [run, online] of [[result.bareBroadcast, 8], [result.public, 8], [result.community, 10]] as const) {
      expect(run).toMatchObject({ sent: 10, accepted: 10, dropped: 0, deliveries: 10 * online, lost: 0, duplicates: 0 });
    }
    for (const run of [result.public, result.community]) {
      // One frame into the sender's actor, a call into the group's, and a call into each hub (of the app's 16) holding a member.
      expect(run.perMessage).toMatchObject({ senderFrames: 1 });
      expect(run.perMessage.groupCalls).toBeGreaterThanOrEqual(1);
      expect(run.perMessage.hubCalls).toBeGreaterThanOrEqual(1);
      expect(run.perMessage.hubCalls).toBeLessThanOrEqual(16);
    }
    expect(result.bigGroup).toMatchObject({ members: 150, pages: 2 });
    expect(result.manyGroups).toMatchObject({ groups: 6, conversations: 6, unread: 6 });
    expect(result.manyGroups.doRequests.groupCalls).toBe(0);
  }, 180_000);
});
