/** Real WebSocket clients and signed REST calls against a running server, for end-to-end tests. */
import { readDefaultAppConfig } from "../../scripts/config.ts";
import type { RunningServer } from "../../scripts/dev-server.ts";
import { repoRoot } from "../../scripts/dev-server.ts";
import { generateUserSig } from "../../src/domain/usersig.ts";
import { ProtocolClient } from "../support/protocol-client.ts";

/** The default app as the local server runs it (.dev.vars exists once the e2e setup ran). */
export const defaultApp = readDefaultAppConfig(repoRoot);
if (!defaultApp.secretKey) throw new Error(".dev.vars has no IM_SECRET_KEY: the e2e global setup should have made one");

export const sig = (userId: string) => generateUserSig({ sdkAppId: defaultApp.sdkAppId, secretKey: defaultApp.secretKey!, identifier: userId });

/** Opens /v1/connect as `userId` on the default app and logs in. */
export async function connect(server: RunningServer, userId: string, device: string): Promise<ProtocolClient> {
  return connectTo(server, { sdkAppId: defaultApp.sdkAppId, secretKey: defaultApp.secretKey! }, userId, device);
}

/** Opens /v1/connect as `userId` on any app whose key the test knows, and logs in. */
export async function connectTo(server: RunningServer, app: { sdkAppId: number; secretKey: string }, userId: string, device: string): Promise<ProtocolClient> {
  const url = `${server.base.replace("http", "ws")}/v1/connect?sdkappid=${app.sdkAppId}&userid=${userId}&platform=Web&device=${device}`;
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error(`cannot connect ${url}`)), { once: true });
  });
  const client = new ProtocolClient(ws, userId);
  const userSig = await generateUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier: userId });
  client.loginResponse = await client.request("login", { userSig });
  if (client.loginResponse.code !== 0) throw new Error(`login failed: ${JSON.stringify(client.loginResponse)}`);
  return client;
}

/** A REST call signed by the default app's admin. */
export async function rest(server: RunningServer, path: string, body: unknown): Promise<Record<string, unknown>> {
  const admin = defaultApp.admins[0]!;
  const url = `${server.base}/v4/${path}?sdkappid=${defaultApp.sdkAppId}&identifier=${admin}&usersig=${await sig(admin)}&random=1&contenttype=json`;
  return (await (await fetch(url, { method: "POST", body: JSON.stringify(body) })).json()) as Record<string, unknown>;
}

/** Polls `check` until it gives a truthy value, or fails after `timeoutMs` naming `what`. */
export async function pollUntil<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs: number): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
