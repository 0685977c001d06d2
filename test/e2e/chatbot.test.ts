/**
 * The example chatbot (examples/chatbot/bot.ts) against `wrangler dev`: the app's after-send
 * callbacks reach the bot, which answers through REST, one-to-one and in a group.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, repoRoot, startServerWithOwnKey, type RunningServer } from "../../scripts/dev-server.ts";
import { generateUserSig } from "../../src/domain/usersig.ts";
import { ProtocolClient, aRandom, text } from "../support/protocol-client.ts";

type Body = { MsgType: string; MsgContent: { Text?: string } }[];
const said = (body: Body) => body.map((e) => e.MsgContent.Text ?? "").join("");

describe("the example chatbot", () => {
  const user = `bot_user_${Date.now().toString(36)}`;
  let server: RunningServer;
  let app: { sdkAppId: number; admins: string[]; secretKey: string };
  let bot: ChildProcess;
  let botOutput = "";
  let client: ProtocolClient;

  beforeAll(async () => {
    const botPort = await freePort();
    ({ server, app } = await startServerWithOwnKey({
      vars: { IM_CALLBACK_URL: `http://127.0.0.1:${botPort}/im-callback`, IM_CALLBACK_COMMANDS: "C2C.CallbackAfterSendMsg,Group.CallbackAfterSendMsg" },
    }));
    // The bot reads the app as `npm run chatbot` does, from the env file the server was started with.
    bot = spawn(process.execPath, [join(repoRoot, "examples", "chatbot", "bot.ts"), "--server", server.base, "--port", String(botPort), "--env-file", join(server.persistTo, "server.vars")], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    bot.stdout!.on("data", (d: Buffer) => (botOutput += d.toString()));
    bot.stderr!.on("data", (d: Buffer) => (botOutput += d.toString()));
    const deadline = Date.now() + 30_000;
    while (!/is answering/.test(botOutput)) {
      if (bot.exitCode !== null || Date.now() > deadline) throw new Error(`the bot did not start:\n${botOutput}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Its callbacks are configured, so it printed no hint.
    expect(botOutput).not.toMatch(/do not reach the bot/);

    expect((await rest("im_open_login_svc/account_import", { UserID: user })).ErrorCode).toBe(0);
    const ws = new WebSocket(`${server.base.replace("http", "ws")}/v1/connect?sdkappid=${app.sdkAppId}&userid=${user}&platform=Web&device=tab`);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error("cannot connect")), { once: true });
    });
    client = new ProtocolClient(ws, user);
    const userSig = await generateUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier: user });
    expect((await client.request("login", { userSig })).code).toBe(0);
  }, 150_000);

  afterAll(async () => {
    await ProtocolClient.closeAll();
    if (bot && bot.exitCode === null) {
      const exited = new Promise((resolve) => bot.once("exit", resolve));
      bot.kill("SIGTERM");
      await exited;
    }
    await server?.stop();
  });

  async function rest(path: string, body: unknown): Promise<Record<string, unknown>> {
    const admin = app.admins[0]!;
    const sig = await generateUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier: admin });
    const url = `${server.base}/v4/${path}?sdkappid=${app.sdkAppId}&identifier=${admin}&usersig=${sig}&random=1&contenttype=json`;
    return (await (await fetch(url, { method: "POST", body: JSON.stringify(body) })).json()) as Record<string, unknown>;
  }

  it("answers a one-to-one message, once", async () => {
    await client.call("sendMessage", { to: "bot", random: aRandom(), body: text("hello there") });
    const fromBot = () => client.eventsOf<{ message: { from: string; body: Body } }>("message").filter((e) => e.message.from === "bot");
    const [answer] = await client.until(() => fromBot().length > 0 && fromBot(), "the bot's answer", 15_000);
    expect(said(answer!.message.body)).toBe(`${user}, you said: hello there`);
    // After-callbacks come at least once, and its own answer comes back to it as one too: still one answer.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(fromBot()).toHaveLength(1);
  });

  it("answers in a group when mentioned, and only then", async () => {
    const created = await rest("group_open_http_svc/create_group", { Owner_Account: user, Type: "Public", Name: "with the bot", MemberList: [{ Member_Account: "bot" }] });
    expect(created.ErrorCode).toBe(0);
    const groupID = created.GroupId as string;
    await client.call("sendGroupMessage", { groupID, random: aRandom(), body: text("just chatting") });
    await client.call("sendGroupMessage", { groupID, random: aRandom(), body: text("@bot what time is it?"), atUsers: ["bot"] });
    const botMessages = async () =>
      (await client.call<{ messages: { from: string; body: Body }[] }>("getGroupMessageList", { groupID, limit: 20 })).messages.filter((m) => m.from === "bot");
    const deadline = Date.now() + 15_000;
    while ((await botMessages()).length === 0) {
      if (Date.now() > deadline) throw new Error(`the bot did not answer in the group:\n${botOutput}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 1_500));
    const answers = await botMessages();
    expect(answers.map((m) => said(m.body))).toEqual([`${user}, you said: what time is it?`]);
  });
});
