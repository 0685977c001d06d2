/**
 * A chatbot for edge-im, as an app backend would build one: it receives the app's
 * C2C.CallbackAfterSendMsg and Group.CallbackAfterSendMsg and answers as its own account through
 * REST `openim/sendmsg` and `group_open_http_svc/send_group_msg`, signed by the app's admin.
 * Node built-ins only. `npm run chatbot` starts it next to `npm run dev`; docs/CHATBOT.md says how
 * to point the app's callbacks at it.
 *
 * Options: --server <edge-im URL> (http://127.0.0.1:8787), --port <port to listen on> (8788),
 * --account <the bot's UserID> (bot), --env-file <file> (the one given to `npm run dev`, in place
 * of .dev.vars), --register (sets the app's callbacks to this bot with edgeim_admin_svc/set_callback).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readDefaultAppConfig } from "../../scripts/config.ts";
// Outside this repository, the same function comes from the package: `import { generateUserSig } from "edge-im/usersig"`.
import { generateUserSig } from "../../src/domain/usersig.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};

const server = (option("server") ?? process.env.BOT_SERVER ?? "http://127.0.0.1:8787").replace(/\/$/, "");
const port = Number(option("port") ?? process.env.BOT_PORT ?? "8788");
const bot = option("account") ?? process.env.BOT_ACCOUNT ?? "bot";
const envFile = option("env-file");
const app = readDefaultAppConfig(root, envFile ? [envFile] : []);
const admin = app.admins[0];
if (!app.secretKey || !admin) {
  console.error("chatbot: the default app has no IM_SECRET_KEY or IM_ADMIN: run `npm run dev` once (it creates .dev.vars)");
  process.exit(1);
}
const secretKey = app.secretKey;
const callbackPath = "/im-callback";
const callbackUrl = `http://127.0.0.1:${port}${callbackPath}`;
const commands = ["C2C.CallbackAfterSendMsg", "Group.CallbackAfterSendMsg"];

// ---- what the bot says

type MsgBody = { MsgType: string; MsgContent: Record<string, unknown> }[];

const textOf = (body: unknown): string =>
  Array.isArray(body)
    ? (body as MsgBody)
        .filter((e) => e.MsgType === "TIMTextElem")
        .map((e) => String(e.MsgContent.Text ?? ""))
        .join("")
    : "";

/** The bot's answer to `text` from `from`: replace this with a call to your model or service. */
function reply(text: string, from: string): string {
  const said = text.replace(new RegExp(`@${bot}\\b`, "gi"), "").trim();
  if (/^(help|\/help)$/i.test(said)) return "I answer what you write. Try: time, or anything else.";
  if (/^(time|\/time)$/i.test(said)) return `It is ${new Date().toISOString()}.`;
  if (said === "") return `Hello ${from}! Say something, or "help".`;
  return `${from}, you said: ${said}`;
}

// ---- REST, signed by the app's admin

let adminSig: { value: string; until: number } | undefined;
async function sig(): Promise<string> {
  if (adminSig && Date.now() < adminSig.until) return adminSig.value;
  const value = await generateUserSig({ sdkAppId: app.sdkAppId, secretKey, identifier: admin!, expireSeconds: 24 * 3600 });
  adminSig = { value, until: Date.now() + 3600_000 };
  return value;
}

async function rest(path: string, body: unknown): Promise<Record<string, unknown>> {
  const query = new URLSearchParams({ sdkappid: String(app.sdkAppId), identifier: admin!, usersig: await sig(), random: String(random()), contenttype: "json" });
  const response = await fetch(`${server}/v4/${path}?${query}`, { method: "POST", body: JSON.stringify(body) });
  return (await response.json()) as Record<string, unknown>;
}

const random = () => Math.floor(Math.random() * 2 ** 32);
const text = (t: string): MsgBody => [{ MsgType: "TIMTextElem", MsgContent: { Text: t } }];

async function send(path: string, body: Record<string, unknown>): Promise<void> {
  const answer = await rest(path, body);
  if (answer.ErrorCode !== 0) console.error(`chatbot: ${path} failed: ${answer.ErrorCode} ${answer.ErrorInfo}`);
}

// ---- the callbacks

/** After-callbacks come at least once: an event seen again is not answered twice. */
const seen = new Set<string>();
function firstTime(key: string): boolean {
  if (seen.has(key)) return false;
  seen.add(key);
  if (seen.size > 10_000) seen.delete(seen.values().next().value!);
  return true;
}

async function handle(command: string, event: Record<string, unknown>): Promise<void> {
  const from = String(event.From_Account ?? "");
  // Its own messages come back as callbacks too: answering them would never end.
  if (from === "" || from === bot) return;
  if (command === "C2C.CallbackAfterSendMsg") {
    // A message the bot never received (it blocked the sender) is reported with a non-zero SendMsgResult.
    if (event.To_Account !== bot || (event.SendMsgResult ?? 0) !== 0 || !firstTime(`c2c:${String(event.MsgKey)}`)) return;
    await send("openim/sendmsg", { SyncOtherMachine: 2, From_Account: bot, To_Account: from, MsgRandom: random(), MsgBody: text(reply(textOf(event.MsgBody), from)) });
  } else if (command === "Group.CallbackAfterSendMsg") {
    const said = textOf(event.MsgBody);
    const mentions = (event.GroupAtInfo as { GroupAt_Account?: string }[] | undefined) ?? [];
    // In a group the bot answers only what is meant for it: an @mention.
    const forBot = mentions.some((m) => m.GroupAt_Account === bot) || new RegExp(`@${bot}\\b`, "i").test(said);
    if (!forBot || !firstTime(`group:${String(event.GroupId)}:${String(event.MsgSeq)}`)) return;
    await send("group_open_http_svc/send_group_msg", { GroupId: event.GroupId, From_Account: bot, Random: random(), MsgBody: text(reply(said, from)) });
  }
}

function receive(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://bot");
  if (req.method !== "POST" || url.pathname !== callbackPath) {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size <= 1 << 20) chunks.push(chunk);
  });
  req.on("end", () => {
    // Answer at once: an after-callback that waits for the bot's own sends would hold up the app's queue.
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ActionStatus: "OK", ErrorCode: 0, ErrorInfo: "" }));
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
    } catch {
      return;
    }
    const command = url.searchParams.get("CallbackCommand") ?? String(event.CallbackCommand ?? "");
    handle(command, event).catch((error: unknown) => console.error(`chatbot: ${command}: ${String(error)}`));
  });
}

// ---- start

/** Waits for the server (it may be starting next to the bot), then makes sure the bot's account exists. */
async function prepare(): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const imported = await rest("im_open_login_svc/account_import", { UserID: bot, Nick: "Bot" });
      if (imported.ErrorCode === 0) return;
      throw new Error(`account_import: ${imported.ErrorCode} ${imported.ErrorInfo}`);
    } catch (error) {
      if (attempt === 0) console.log(`chatbot: waiting for edge-im at ${server} (${String((error as Error).message ?? error)})`);
      if (attempt > 300) throw error;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

async function checkCallbacks(): Promise<void> {
  if (args.includes("--register")) {
    const set = await rest("edgeim_admin_svc/set_callback", { CallbackUrl: callbackUrl, CallbackCommands: commands });
    if (set.ErrorCode !== 0) console.error(`chatbot: set_callback failed: ${set.ErrorCode} ${set.ErrorInfo}`);
    else console.log(`chatbot: the app's callbacks now go to ${callbackUrl}`);
    return;
  }
  const current = await rest("edgeim_admin_svc/get_callback", {});
  const listed = current.CallbackCommands === "*" || commands.every((c) => (current.CallbackCommands as string[] | undefined)?.includes(c));
  if (current.CallbackUrl !== callbackUrl || !listed) {
    console.log(
      `chatbot: the app's callbacks do not reach the bot yet. Add to .dev.vars and restart npm run dev:\n` +
        `  IM_CALLBACK_URL=${callbackUrl}\n  IM_CALLBACK_COMMANDS=${commands.join(",")}\n` +
        `or start the bot with --register (npm run chatbot -- --register).`,
    );
  }
}

const listener = createServer(receive);
listener.listen(port, "127.0.0.1", () => {
  void (async () => {
    await prepare();
    await checkCallbacks();
    console.log(`chatbot: "${bot}" is answering on ${callbackUrl} (app ${app.sdkAppId}, server ${server})`);
  })().catch((error: unknown) => {
    console.error(`chatbot: ${String(error)}`);
    process.exit(1);
  });
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
