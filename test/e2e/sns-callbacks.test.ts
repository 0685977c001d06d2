/**
 * Profile and relationship-chain callbacks end to end: `wrangler dev` calls a real HTTP receiver
 * on loopback, which refuses some of clients' friend adds and answers item by item, and is down
 * for a while.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServerWithOwnKey, type RunningServer } from "../../scripts/dev-server.ts";
import { generateUserSig } from "../../src/domain/usersig.ts";
import { ProtocolClient } from "../support/protocol-client.ts";

interface Received {
  ok: boolean;
  command: string;
  query: URLSearchParams;
  body: Record<string, unknown>;
}

const commands = [
  "Profile.CallbackPortraitSet",
  "Sns.CallbackPrevFriendAdd",
  "Sns.CallbackPrevFriendResponse",
  "Sns.CallbackFriendAdd",
  "Sns.CallbackFriendDelete",
  "Sns.CallbackBlackListAdd",
  "Sns.CallbackBlackListDelete",
];

/** While set, the receiver answers every after-callback with 503. */
let receiverDown = false;

/** Refuses, item by item, every friend add or answer whose To_Account starts with "no_". */
function answer(received: Received, res: ServerResponse): void {
  const json = (value: unknown) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(value));
  };
  const items = (received.body.FriendItem ?? received.body.ResponseFriendItem) as { To_Account: string }[] | undefined;
  if (items) {
    return json({
      ActionStatus: "OK",
      ErrorCode: 0,
      ResultItem: items.map((i) => (i.To_Account.startsWith("no_") ? { To_Account: i.To_Account, ResultCode: 38_123, ResultInfo: "the backend says no" } : { To_Account: i.To_Account, ResultCode: 0, ResultInfo: "" })),
    });
  }
  if (!receiverDown) return json({ ActionStatus: "OK", ErrorCode: 0 });
  received.ok = false;
  res.writeHead(503);
  res.end();
}

describe("profile and relationship callbacks under wrangler dev", () => {
  const tag = Date.now().toString(36);
  const user = (name: string) => `sc_${name}_${tag}`;
  const [a, b, c, d] = [user("a"), user("b"), user("c"), user("d")] as const;
  /** The receiver refuses adds and answers naming this one. */
  const refused = `no_${tag}`;
  const received: Received[] = [];
  let receiver: Server;
  let server: RunningServer;
  let app: { sdkAppId: number; admins: string[]; secretKey: string };

  beforeAll(async () => {
    receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
      let raw = "";
      req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
      req.on("end", () => {
        const query = new URL(req.url!, "http://x").searchParams;
        const got = { ok: true, command: query.get("CallbackCommand") ?? "", query, body: (raw ? JSON.parse(raw) : {}) as Record<string, unknown> };
        received.push(got);
        answer(got, res);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const port = (receiver.address() as AddressInfo).port;
    ({ server, app } = await startServerWithOwnKey({ vars: { IM_CALLBACK_URL: `http://127.0.0.1:${port}/im`, IM_CALLBACK_COMMANDS: commands.join(",") } }));
    expect((await rest("im_open_login_svc/multiaccount_import", { Accounts: [a, b, c, d, refused] })).ErrorCode).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await ProtocolClient.closeAll();
    await server?.stop();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  const admin = () => app.admins[0]!;
  const sigOf = (userId: string) => generateUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier: userId });

  async function rest(path: string, body: unknown): Promise<Record<string, unknown>> {
    const url = `${server.base}/v4/${path}?sdkappid=${app.sdkAppId}&identifier=${admin()}&usersig=${await sigOf(admin())}&random=1&contenttype=json`;
    return (await (await fetch(url, { method: "POST", body: JSON.stringify(body) })).json()) as Record<string, unknown>;
  }

  async function connectAs(userId: string, platform: string): Promise<ProtocolClient> {
    const ws = new WebSocket(`${server.base.replace("http", "ws")}/v1/connect?sdkappid=${app.sdkAppId}&userid=${userId}&platform=${platform}&device=${platform}-1`);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error("cannot connect")), { once: true });
    });
    const client = new ProtocolClient(ws, userId);
    expect((await client.request("login", { userSig: await sigOf(userId) })).code).toBe(0);
    return client;
  }

  const named = (command: string, from?: string) => received.filter((r) => r.ok && r.command === command && (from === undefined || r.body.From_Account === from || (r.body.PairList as { From_Account: string }[] | undefined)?.[0]?.From_Account === from));

  async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = probe();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it("tells the backend of a profile set over REST, naming the admin and RESTAPI", async () => {
    expect((await rest("profile/portrait_set", { From_Account: a, ProfileItem: [{ Tag: "Tag_Profile_IM_Nick", Value: "Ay" }] })).ErrorCode).toBe(0);
    const set = await until("PortraitSet", () => named("Profile.CallbackPortraitSet", a)[0]);
    expect(set.body).toMatchObject({
      CallbackCommand: "Profile.CallbackPortraitSet",
      Operator_Account: admin(),
      From_Account: a,
      ProfileItem: [{ Tag: "Tag_Profile_IM_Nick", Value: "Ay" }],
    });
    expect(Math.abs((set.body.EventTime as number) - Date.now())).toBeLessThan(30_000);
    expect(set.query.get("SdkAppid")).toBe(String(app.sdkAppId));
    expect(set.query.get("OptPlatform")).toBe("RESTAPI");
    expect(set.query.get("ClientIP")).toMatch(/\d|:/);
  });

  it("asks before a client's friend add: a refused add is not made, an allowed one is, and the backend hears of it", async () => {
    for (const user of [b, refused]) expect((await rest("profile/portrait_set", { From_Account: user, ProfileItem: [{ Tag: "Tag_Profile_IM_AllowType", Value: "AllowType_Type_AllowAny" }] })).ErrorCode).toBe(0);
    const client = await connectAs(a, "Windows");
    expect(await client.call("addFriend", { to: refused, remark: "no", source: "AddSource_Type_Web" })).toEqual({ userId: refused, code: 38_123, info: "the backend says no" });
    expect(await client.call("addFriend", { to: b, remark: "Bee", listName: "work", source: "AddSource_Type_Web", wording: "hello" })).toEqual({ userId: b, code: 0, info: "" });

    const asked = named("Sns.CallbackPrevFriendAdd", a);
    expect(asked.map((r) => r.body)).toMatchObject([
      { Requester_Account: a, From_Account: a, FriendItem: [{ To_Account: refused, Remark: "no", GroupName: "", AddSource: "AddSource_Type_Web", AddWording: "" }], AddType: "Add_Type_Both", ForceAddFlags: 0 },
      { Requester_Account: a, From_Account: a, FriendItem: [{ To_Account: b, Remark: "Bee", GroupName: "work", AddSource: "AddSource_Type_Web", AddWording: "hello" }], AddType: "Add_Type_Both", ForceAddFlags: 0 },
    ]);
    expect(asked[0]!.query.get("OptPlatform")).toBe("Windows");
    expect(asked[0]!.query.get("ClientIP")).toMatch(/\d|:/);

    const check = await rest("sns/friend_check", { From_Account: a, To_Account: [refused, b], CheckType: "CheckResult_Type_Both" });
    expect((check.InfoItem as { To_Account: string; Relation: string }[]).map((i) => i.Relation)).toEqual(["CheckResult_Type_NoRelation", "CheckResult_Type_BothWay"]);

    const after = await until("FriendAdd", () => named("Sns.CallbackFriendAdd", a)[0]);
    expect(after.body).toMatchObject({
      PairList: [
        { From_Account: a, To_Account: b, Initiator_Account: a },
        { From_Account: b, To_Account: a, Initiator_Account: a },
      ],
      ClientCmd: "friend_add",
      Admin_Account: "",
      ForceFlag: 0,
    });
    expect(after.query.get("OptPlatform")).toBe("Windows");
    client.close();
  });

  it("does not ask before a friend add made through REST, as Tencent does not", async () => {
    // The backend would refuse `refused`; asked nothing, it has no say.
    const added = await rest("sns/friend_add", { From_Account: d, AddFriendItem: [{ To_Account: refused, AddSource: "AddSource_Type_Web" }], AddType: "Add_Type_Single" });
    expect(added.ResultItem).toEqual([{ To_Account: refused, ResultCode: 0, ResultInfo: "" }]);
    // A before-callback is asked inline, before the answer: none came.
    expect(named("Sns.CallbackPrevFriendAdd", d)).toEqual([]);
    const after = await until("FriendAdd of the REST add", () => named("Sns.CallbackFriendAdd", d).find((r) => (r.body.PairList as { To_Account: string }[])[0]?.To_Account === refused));
    expect(after.body).toMatchObject({ ClientCmd: "friend_add", Admin_Account: admin() });
    expect(after.query.get("OptPlatform")).toBe("RESTAPI");
  });

  it("asks before a client answers a friend request, and names the client's platform", async () => {
    expect((await rest("profile/portrait_set", { From_Account: c, ProfileItem: [{ Tag: "Tag_Profile_IM_AllowType", Value: "AllowType_Type_NeedConfirm" }] })).ErrorCode).toBe(0);
    const asked = await rest("sns/friend_add", { From_Account: d, AddFriendItem: [{ To_Account: c, AddSource: "AddSource_Type_Web" }], AddType: "Add_Type_Both" });
    expect((asked.ResultItem as { ResultCode: number }[])[0]!.ResultCode).toBe(30539);
    const client = await connectAs(c, "Android");
    expect((await client.request("acceptFriendApplication", { userID: d, type: "agreeAndAdd", remark: "Dee" })).code).toBe(0);
    const [before] = named("Sns.CallbackPrevFriendResponse", c);
    expect(before?.body).toMatchObject({
      Requester_Account: c,
      From_Account: c,
      ResponseFriendItem: [{ To_Account: d, Remark: "Dee", TagName: "", ResponseAction: "Response_Action_AgreeAndAdd" }],
    });
    expect(before?.query.get("OptPlatform")).toBe("Android");
    expect(before?.query.get("ClientIP")).toMatch(/\d|:/);
    const after = await until("FriendAdd of the answer", () => received.find((r) => r.ok && r.command === "Sns.CallbackFriendAdd" && r.body.ClientCmd === "friend_response"));
    expect(after.body).toMatchObject({
      PairList: [
        { From_Account: d, To_Account: c, Initiator_Account: d },
        { From_Account: c, To_Account: d, Initiator_Account: d },
      ],
      Admin_Account: "",
    });
    expect(after.query.get("OptPlatform")).toBe("Android");

    // The client's own profile change names the user as its operator.
    expect((await client.request("updateMyProfile", { items: [{ tag: "Tag_Profile_IM_Nick", value: "Cee" }] })).code).toBe(0);
    const set = await until("the client's PortraitSet", () => named("Profile.CallbackPortraitSet", c).find((r) => (r.body.ProfileItem as { Value: string }[])[0]?.Value === "Cee"));
    expect(set.body).toMatchObject({ Operator_Account: c, From_Account: c });
    expect(set.query.get("OptPlatform")).toBe("Android");
    client.close();
  });

  it("refuses a client's answer to a request the backend refuses, and keeps the request", async () => {
    // c confirms requests (set above); the refused account asks c, and c's answer names it, so the backend refuses.
    const asked = await rest("sns/friend_add", { From_Account: refused, AddFriendItem: [{ To_Account: c }], AddType: "Add_Type_Both", ForceAddFlags: 0 });
    // The request itself is a REST add, which asks the backend nothing.
    expect((asked.ResultItem as { ResultCode: number }[])[0]!.ResultCode).toBe(30539);
    const client = await connectAs(c, "iOS");
    const answer = await client.request("acceptFriendApplication", { userID: refused, type: "agree" });
    expect(answer.code).toBe(38_123);
    const pending = await client.call<{ incoming: { requester: string }[] }>("getFriendApplicationList");
    expect(pending.incoming.map((r) => r.requester)).toContain(refused);
    client.close();
  });

  it("asks before a client rejects a friend request: a refused reject keeps the request, an allowed one removes it", async () => {
    // c confirms requests; b asks c too, so c holds requests from `refused` (above) and b.
    expect(((await rest("sns/friend_add", { From_Account: b, AddFriendItem: [{ To_Account: c }], AddType: "Add_Type_Both" })).ResultItem as { ResultCode: number }[])[0]!.ResultCode).toBe(30539);
    const client = await connectAs(c, "Mac");
    const refusedReject = await client.request("refuseFriendApplication", { userID: refused });
    expect(refusedReject.code).toBe(38_123);
    expect(refusedReject.message).toContain("the backend says no");
    expect((await client.request("refuseFriendApplication", { userID: b })).code).toBe(0);
    const pending = await client.call<{ incoming: { requester: string }[] }>("getFriendApplicationList");
    expect(pending.incoming.map((r) => r.requester)).toContain(refused);
    expect(pending.incoming.map((r) => r.requester)).not.toContain(b);

    const rejects = named("Sns.CallbackPrevFriendResponse", c).filter((r) => (r.body.ResponseFriendItem as { ResponseAction: string }[])[0]?.ResponseAction === "Response_Action_Reject");
    expect(rejects.map((r) => r.body)).toMatchObject([
      { Requester_Account: c, From_Account: c, ResponseFriendItem: [{ To_Account: refused, Remark: "", TagName: "", ResponseAction: "Response_Action_Reject" }] },
      { Requester_Account: c, From_Account: c, ResponseFriendItem: [{ To_Account: b, Remark: "", TagName: "", ResponseAction: "Response_Action_Reject" }] },
    ]);
    expect(rejects[1]!.query.get("OptPlatform")).toBe("Mac");
    client.close();
  });

  it("tells the backend nothing of imported friends, as Tencent does not", async () => {
    const imported = await rest("sns/friend_import", { From_Account: d, AddFriendItem: [{ To_Account: b }] });
    expect(imported.ResultItem).toMatchObject([{ To_Account: b, ResultCode: 0 }]);
    // d's callbacks go in order: once this one arrives, an import's FriendAdd would have too.
    expect((await rest("profile/portrait_set", { From_Account: d, ProfileItem: [{ Tag: "Tag_Profile_IM_Nick", Value: "after the import" }] })).ErrorCode).toBe(0);
    await until("d's PortraitSet", () => named("Profile.CallbackPortraitSet", d).find((r) => (r.body.ProfileItem as { Value: string }[])[0]?.Value === "after the import"));
    expect(named("Sns.CallbackFriendAdd", d).filter((r) => (r.body.PairList as { To_Account: string }[]).some((p) => p.To_Account === b))).toEqual([]);
  });

  it("tells the backend of friend deletes and blocklist changes", async () => {
    expect((await rest("sns/friend_delete", { From_Account: a, To_Account: [b], DeleteType: "Delete_Type_Both" })).ErrorCode).toBe(0);
    const deleted = await until("FriendDelete", () => named("Sns.CallbackFriendDelete", a)[0]);
    expect(deleted.body).toMatchObject({
      CallbackCommand: "Sns.CallbackFriendDelete",
      PairList: [
        { From_Account: a, To_Account: b, Initiator_Account: a },
        { From_Account: b, To_Account: a, Initiator_Account: a },
      ],
    });
    expect((await rest("sns/black_list_add", { From_Account: a, To_Account: [b, a] })).ErrorCode).toBe(0);
    const blocked = await until("BlackListAdd", () => named("Sns.CallbackBlackListAdd", a)[0]);
    // Only the change that went through (a cannot block itself).
    expect(blocked.body).toMatchObject({ PairList: [{ From_Account: a, To_Account: b, Initiator_Account: a }] });
    expect((await rest("sns/black_list_delete", { From_Account: a, To_Account: [b] })).ErrorCode).toBe(0);
    const unblocked = await until("BlackListDelete", () => named("Sns.CallbackBlackListDelete", a)[0]);
    expect(unblocked.body).toMatchObject({ PairList: [{ From_Account: a, To_Account: b, Initiator_Account: a }] });
  });

  it("a receiver that is down gets every after-callback once it is back, in order per user", async () => {
    receiverDown = true;
    const from = received.length;
    const nicks: string[] = [];
    for (let i = 0; i < 6; i++) {
      nicks.push(`nick ${i}`);
      expect((await rest("profile/portrait_set", { From_Account: d, ProfileItem: [{ Tag: "Tag_Profile_IM_Nick", Value: `nick ${i}` }] })).ErrorCode).toBe(0);
      expect((await rest(i % 2 === 0 ? "sns/black_list_add" : "sns/black_list_delete", { From_Account: d, To_Account: [a] })).ErrorCode).toBe(0);
    }
    await until("a refused attempt", () => (received.slice(from).some((r) => !r.ok) ? true : undefined));
    receiverDown = false;
    const ofD = () => received.slice(from).filter((r) => r.ok && (r.body.From_Account === d || (r.body.PairList as { From_Account: string }[] | undefined)?.[0]?.From_Account === d));
    await until("all 12 after-callbacks", () => (ofD().length >= 12 ? true : undefined), 30_000);
    const seen = ofD().map((r) => (r.command === "Profile.CallbackPortraitSet" ? (r.body.ProfileItem as { Value: string }[])[0]!.Value : r.command));
    expect(seen).toEqual(nicks.flatMap((nick, i) => [nick, i % 2 === 0 ? "Sns.CallbackBlackListAdd" : "Sns.CallbackBlackListDelete"]));
  }, 60_000);
});
