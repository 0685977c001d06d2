/** Connects protocol clients through SELF, inside workerd. */
import { SELF } from "cloudflare:test";
import { ProtocolClient } from "../support/protocol-client.ts";
import type { TestApp } from "./helpers.ts";

export { aRandom, text } from "../support/protocol-client.ts";

export interface ConnectOptions {
  platform?: string;
  device?: string;
  userSig?: string;
  /** Skip the login op. */
  noLogin?: boolean;
}

export const TestClient = {
  closeAll: () => ProtocolClient.closeAll(),

  /** A device's group connection (/v1/groups), where group events arrive; logged in, or the test fails here. */
  async connectGroups(app: TestApp, userId: string): Promise<ProtocolClient> {
    const query = new URLSearchParams({ sdkappid: String(app.sdkAppId), userid: userId });
    const response = await SELF.fetch(`https://im.example/v1/groups?${query}`, { headers: { Upgrade: "websocket" } });
    const ws = response.webSocket;
    if (!ws) throw new Error(`no WebSocket: ${response.status} ${await response.text()}`);
    ws.accept();
    const client = new ProtocolClient(ws, userId);
    client.loginResponse = await client.request("login", { userSig: await app.sig(userId) });
    if (client.loginResponse.code !== 0) throw new Error(`login failed: ${JSON.stringify(client.loginResponse)}`);
    return client;
  },

  async connect(app: TestApp, userId: string, options: ConnectOptions = {}): Promise<ProtocolClient> {
    const query = new URLSearchParams({ sdkappid: String(app.sdkAppId), userid: userId, platform: options.platform ?? "Web" });
    if (options.device) query.set("device", options.device);
    const response = await SELF.fetch(`https://im.example/v1/connect?${query}`, { headers: { Upgrade: "websocket" } });
    const ws = response.webSocket;
    if (!ws) throw new Error(`no WebSocket: ${response.status} ${await response.text()}`);
    ws.accept();
    const client = new ProtocolClient(ws, userId);
    if (!options.noLogin) {
      client.loginResponse = await client.request("login", { userSig: options.userSig ?? (await app.sig(userId)) });
    }
    return client;
  },
};
