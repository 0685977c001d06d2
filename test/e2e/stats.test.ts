/**
 * Statistics under `wrangler dev`: the callbacks' counters follow what a real receiver on loopback
 * answers, and today's figures move within seconds.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServerWithOwnKey, type RunningServer } from "../../scripts/dev-server.ts";
import { generateUserSig } from "../../src/domain/usersig.ts";

const text = (t: string) => [{ MsgType: "TIMTextElem", MsgContent: { Text: t } }];

describe("callback statistics under wrangler dev", () => {
  const a = `st_a_${Date.now().toString(36)}`;
  const b = `st_b_${Date.now().toString(36)}`;
  /** After-callbacks seen, by MsgKey: the first attempt of each is answered 503. */
  const afterAttempts = new Map<string, number>();
  let receiver: Server;
  let server: RunningServer;
  let app: { sdkAppId: number; admins: string[]; secretKey: string };

  beforeAll(async () => {
    receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
      let raw = "";
      req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
      req.on("end", () => {
        const body = JSON.parse(raw || "{}") as { CallbackCommand?: string; MsgKey?: string };
        if (body.CallbackCommand === "C2C.CallbackAfterSendMsg") {
          const seen = (afterAttempts.get(body.MsgKey!) ?? 0) + 1;
          afterAttempts.set(body.MsgKey!, seen);
          if (seen === 1) {
            res.writeHead(503);
            return void res.end();
          }
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ ActionStatus: "OK", ErrorCode: 0 }));
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const port = (receiver.address() as AddressInfo).port;
    ({ server, app } = await startServerWithOwnKey({
      vars: { IM_CALLBACK_URL: `http://127.0.0.1:${port}/im`, IM_CALLBACK_COMMANDS: "C2C.CallbackBeforeSendMsg,C2C.CallbackAfterSendMsg" },
    }));
    expect((await rest("im_open_login_svc/multiaccount_import", { Accounts: [a, b] })).ErrorCode).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  async function rest(path: string, body: unknown): Promise<Record<string, unknown>> {
    const admin = app.admins[0]!;
    const sig = await generateUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier: admin });
    const url = `${server.base}/v4/${path}?sdkappid=${app.sdkAppId}&identifier=${admin}&usersig=${sig}&random=1&contenttype=json`;
    return (await (await fetch(url, { method: "POST", body: JSON.stringify(body) })).json()) as Record<string, unknown>;
  }

  it("count every attempt, its answer or failure, and the retries", async () => {
    for (let i = 0; i < 2; i++) {
      const sent = await rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: 100 + i, MsgBody: text(`m${i}`) });
      expect(sent.ErrorCode).toBe(0);
    }
    // Two before-callbacks answered; two after-callbacks refused once, then answered on the retry.
    await expect
      .poll(
        async () => {
          const stats = await rest("edgeim_ops_svc/get_stats", { Days: 1 });
          const today = (stats.Result as Record<string, number>[])[0]!;
          return { CallBackReq: today.CallBackReq, CallBackRsp: today.CallBackRsp, CallbackFailed: today.CallbackFailed, CallbackRetried: today.CallbackRetried, C2CUpMsgNum: today.C2CUpMsgNum };
        },
        { timeout: 30_000, interval: 1_000 },
      )
      .toEqual({ CallBackReq: 6, CallBackRsp: 4, CallbackFailed: 2, CallbackRetried: 2, C2CUpMsgNum: 2 });
    const info = await rest("openconfigsvr/getappinfo", { RequestField: ["CallBackReq", "CallBackRsp", "Date"] });
    expect((info.Result as Record<string, string>[])[0]).toMatchObject({ CallBackReq: "6", CallBackRsp: "4" });
  }, 60_000);
});
