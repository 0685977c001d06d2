/** The REST door end to end: `npm run dev`'s server, driven with plain fetch. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateUserSig } from "../../src/domain/usersig.ts";
import { readDefaultAppConfig } from "../../scripts/config.ts";
import { freshStateDir, repoRoot, startServer, type RunningServer } from "../../scripts/dev-server.ts";

interface Envelope {
  ActionStatus: string;
  ErrorCode: number;
  ErrorInfo: string;
  [field: string]: unknown;
}

async function post(url: string, body: string): Promise<{ status: number; body: Envelope }> {
  const response = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json" } });
  return { status: response.status, body: (await response.json()) as Envelope };
}

describe("edge-im under wrangler dev", () => {
  let server: RunningServer;
  const state = freshStateDir();
  let query: string;

  const rest = (path: string, body: unknown) => post(`${server.base}/v4/${path}?${query}`, JSON.stringify(body));

  beforeAll(async () => {
    server = await startServer({ persistTo: state });
    const app = readDefaultAppConfig(repoRoot);
    const userSig = await generateUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey!, identifier: app.admins[0]! });
    query = `sdkappid=${app.sdkAppId}&identifier=${app.admins[0]}&usersig=${userSig}&random=7&contenttype=json`;
  });
  afterAll(async () => server?.stop());

  it("prints the default app, its admin and a UserSig whose curl works as pasted", async () => {
    const output = server.output();
    expect(output).toMatch(/SDKAppID\s+1400000000/);
    expect(output).toMatch(/admin\s+administrator/);
    const [, url, body] = /curl -s -X POST '([^']+)' -d '([^']+)'/.exec(output)!;
    const answer = await post(url!, body!);
    expect(answer.body).toEqual({ ActionStatus: "OK", ErrorInfo: "", ErrorCode: 0 });
  });

  it("imports, checks and deletes accounts", async () => {
    expect((await rest("im_open_login_svc/account_import", { UserID: "e2e_alice", Nick: "Alice" })).body.ErrorCode).toBe(0);
    const multi = await rest("im_open_login_svc/multiaccount_import", { Accounts: ["e2e_bob", "e2e_carol", "bad id"] });
    expect(multi.body).toMatchObject({ ErrorCode: 0, FailAccounts: ["bad id"] });
    await rest("im_open_login_svc/account_delete", { DeleteItem: [{ UserID: "e2e_carol" }] });
    const check = await rest("im_open_login_svc/account_check", {
      CheckItem: [{ UserID: "e2e_alice" }, { UserID: "e2e_bob" }, { UserID: "e2e_carol" }],
    });
    expect((check.body.ResultItem as { AccountStatus: string }[]).map((i) => i.AccountStatus)).toEqual(["Imported", "Imported", "NotImported"]);
  });

  it("answers bad requests in Tencent's envelope with HTTP 200", async () => {
    const cases: [string, string, number][] = [
      [`${server.base}/v4/im_open_login_svc/account_import?${query}`, "{not json", 60003],
      [`${server.base}/v4/im_open_login_svc/nope?${query}`, "{}", 60009],
      [`${server.base}/v4/im_open_login_svc/account_import?identifier=administrator&usersig=x`, "{}", 60012],
      [`${server.base}/v4/im_open_login_svc/account_import?${query.replace(/usersig=[^&]+/, "usersig=eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwok5mcmpUInilOzEgoLMFCUrQxMDKIDIpFYUZBalKlmZwQRKMnNTlawMzS1NzY0MLU3NoAZkpitZKWVXuUYaBuR5OFfme2S5R5Zk6EeZZWQYB7oU*kQlORa7BLqmRASYFleVJmXbKtUCAFcVMNU_")}`, "{}", 70013],
      [`${server.base}/v4/im_open_login_svc/account_import?${query}`, JSON.stringify({ UserID: { nested: true } }), 70402],
    ];
    for (const [url, body, code] of cases) {
      const answer = await post(url, body);
      expect({ status: answer.status, code: answer.body.ErrorCode, action: answer.body.ActionStatus }).toEqual({ status: 200, code, action: "FAIL" });
    }
  });

  it("keeps its data across a restart on the same state", async () => {
    await server.stop();
    server = await startServer({ persistTo: state });
    const check = await rest("im_open_login_svc/account_check", { CheckItem: [{ UserID: "e2e_alice" }, { UserID: "e2e_carol" }] });
    expect((check.body.ResultItem as { AccountStatus: string }[]).map((i) => i.AccountStatus)).toEqual(["Imported", "NotImported"]);
  });
});

describe("edge-im without a secret key", () => {
  let server: RunningServer;
  beforeAll(async () => {
    const emptyEnv = join(freshStateDir(), "empty.env");
    writeFileSync(emptyEnv, "");
    server = await startServer({ args: ["--env-file", emptyEnv] });
  });
  afterAll(async () => server?.stop());

  it("says so when it starts", () => {
    expect(server.output()).toContain("IM_SECRET_KEY is not set");
  });

  it("refuses the default app with a clear error instead of running with a guessable key", async () => {
    const sig = await generateUserSig({ sdkAppId: 1400000000, secretKey: "guessable", identifier: "administrator" });
    const answer = await post(`${server.base}/v4/im_open_login_svc/account_check?sdkappid=1400000000&identifier=administrator&usersig=${sig}`, "{}");
    expect(answer.status).toBe(200);
    expect(answer.body.ActionStatus).toBe("FAIL");
    expect(answer.body.ErrorCode).toBe(60006);
    expect(answer.body.ErrorInfo).toContain("IM_SECRET_KEY");
  });
});
