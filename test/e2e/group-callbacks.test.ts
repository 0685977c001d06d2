/**
 * Group callbacks end to end: `wrangler dev` calls a real HTTP receiver on loopback, which
 * refuses a group's creation, an application and one invitee of three, and sees every other
 * group event as Tencent's callbacks, named for who acted.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServerWithOwnKey, type RunningServer } from "../../scripts/dev-server.ts";
import { generateUserSig } from "../../src/domain/usersig.ts";
import { ProtocolClient } from "../support/protocol-client.ts";

interface Received {
  /** Whether the receiver answered 200. */
  ok: boolean;
  query: URLSearchParams;
  body: Record<string, unknown>;
}

const text = (t: string) => [{ MsgType: "TIMTextElem", MsgContent: { Text: t } }];

/** While set, the receiver answers every after-callback with 503. */
let receiverDown = false;
/** Applicants the backend turns away. */
const refusedApplicants = new Set<string>();

/** The backend: refuses groups named "refused", the applicants above and invitees whose id holds "_no_". */
function answer(received: Received, res: ServerResponse): void {
  const json = (value: unknown) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(value));
  };
  const { body } = received;
  switch (received.query.get("CallbackCommand")) {
    case "Group.CallbackBeforeCreateGroup":
      if (body.Name === "slow") return void setTimeout(() => json({ ActionStatus: "OK", ErrorCode: 0 }), 3_000);
      return json(body.Name === "refused" ? { ActionStatus: "FAIL", ErrorCode: 1, ErrorInfo: "no such groups here" } : { ActionStatus: "OK", ErrorCode: 0 });
    case "Group.CallbackBeforeApplyJoinGroup":
      return json(refusedApplicants.has(body.Requestor_Account as string) ? { ActionStatus: "FAIL", ErrorCode: 1, ErrorInfo: "not you" } : { ActionStatus: "OK", ErrorCode: 0 });
    case "Group.CallbackBeforeInviteJoinGroup": {
      const refused = (body.DestinationMembers as { Member_Account: string }[]).map((m) => m.Member_Account).filter((id) => id.includes("_no_"));
      return json({ ActionStatus: "OK", ErrorCode: 0, RefusedMembers_Account: refused });
    }
    case "Group.CallbackBeforeSendMsg":
      return json({ ActionStatus: "OK", ErrorCode: 0 });
  }
  if (!receiverDown) return json({ ActionStatus: "OK", ErrorCode: 0 });
  received.ok = false;
  res.writeHead(503);
  res.end();
}

describe("group callbacks under wrangler dev", () => {
  const tag = Date.now().toString(36);
  const [owner, bob, carol, dave, refusedOne, applicant, turnedAway] = ["owner", "bob", "carol", "dave", "x_no_", "appl", "away"].map((n) => `gcb_${n}_${tag}`) as [string, string, string, string, string, string, string];
  const received: Received[] = [];
  let receiver: Server;
  let server: RunningServer;
  let app: { sdkAppId: number; admins: string[]; secretKey: string };

  beforeAll(async () => {
    receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
      let raw = "";
      req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
      req.on("end", () => {
        const url = new URL(req.url!, "http://x");
        const got = { ok: true, query: url.searchParams, body: (raw ? JSON.parse(raw) : {}) as Record<string, unknown> };
        received.push(got);
        answer(got, res);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const port = (receiver.address() as AddressInfo).port;
    ({ server, app } = await startServerWithOwnKey({
      vars: { IM_CALLBACK_URL: `http://127.0.0.1:${port}/im-callback`, IM_CALLBACK_COMMANDS: "*", IM_CALLBACK_TOKEN: "xxx" },
    }));
    expect((await rest("im_open_login_svc/multiaccount_import", { Accounts: [owner, bob, carol, dave, refusedOne, applicant, turnedAway] })).ErrorCode).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await ProtocolClient.closeAll();
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

  async function connectAs(userId: string, platform: string): Promise<ProtocolClient> {
    const ws = new WebSocket(`${server.base.replace("http", "ws")}/v1/connect?sdkappid=${app.sdkAppId}&userid=${userId}&platform=${platform}&device=d-${userId}`);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error("cannot connect")), { once: true });
    });
    const client = new ProtocolClient(ws, userId);
    const login = await client.request("login", { userSig: await generateUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier: userId }) });
    expect(login.code).toBe(0);
    return client;
  }

  async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = probe();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** What the receiver answered 200 for this group (or, for a create's before-callback, this name). */
  const seen = (command: string, groupId?: string) =>
    received.filter((r) => r.ok && r.query.get("CallbackCommand") === command && (groupId === undefined || r.body.GroupId === groupId));
  const one = (command: string, groupId: string) => until(command, () => seen(command, groupId)[0]);
  const membersOf = async (groupId: string) =>
    ((await rest("group_open_http_svc/get_group_member_info", { GroupId: groupId })).MemberList as { Member_Account: string }[]).map((m) => m.Member_Account).sort();

  it("asks before a group is created, signed, and a refusal stops it with 10016", async () => {
    const refused = await rest("group_open_http_svc/create_group", { Owner_Account: owner, Type: "Public", Name: "refused", GroupId: `refused_${tag}` });
    expect(refused).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 10016 });
    expect(refused.ErrorInfo).toContain("no such groups here");
    expect((await rest("group_open_http_svc/get_group_info", { GroupIdList: [`refused_${tag}`] })).GroupInfo).toMatchObject([{ ErrorCode: 10010 }]);
    const before = seen("Group.CallbackBeforeCreateGroup").find((r) => r.body.Name === "refused")!;
    const { query } = before;
    expect(query.get("SdkAppid")).toBe(String(app.sdkAppId));
    expect(query.get("contenttype")).toBe("json");
    expect(query.get("ClientIP")).toMatch(/\d|:/);
    expect(query.get("OptPlatform")).toBe("RESTAPI");
    expect(query.get("Sign")).toBe(createHash("sha256").update(`xxx${query.get("RequestTime")}`).digest("hex"));
    expect(before.body).toMatchObject({
      CallbackCommand: "Group.CallbackBeforeCreateGroup",
      Operator_Account: app.admins[0],
      Owner_Account: owner,
      Type: "Public",
      Name: "refused",
      CreateGroupNum: 0,
      MemberList: [],
    });
    // Nothing was created, so nothing is told after.
    await new Promise((r) => setTimeout(r, 300));
    expect(seen("Group.CallbackAfterCreateGroup").filter((r) => r.body.Name === "refused")).toHaveLength(0);
  });

  it("tells the backend of a group created, then lets in two of three invitees, refusing the one it named", async () => {
    const created = await rest("group_open_http_svc/create_group", {
      Owner_Account: owner,
      Type: "Public",
      Name: "hikers",
      MemberList: [{ Member_Account: bob }],
      AppDefinedData: [{ Key: "region", Value: "alps" }],
    });
    expect(created.ErrorCode).toBe(0);
    const groupId = created.GroupId as string;
    const before = seen("Group.CallbackBeforeCreateGroup").find((r) => r.body.Name === "hikers")!;
    expect(before.body).toMatchObject({ Owner_Account: owner, MemberList: [{ Member_Account: bob }] });
    const after = await one("Group.CallbackAfterCreateGroup", groupId);
    expect(after.query.get("OptPlatform")).toBe("RESTAPI");
    expect(after.body).toMatchObject({
      CallbackCommand: "Group.CallbackAfterCreateGroup",
      GroupId: groupId,
      Operator_Account: app.admins[0],
      Owner_Account: owner,
      Type: "Public",
      Name: "hikers",
      MemberList: [{ Member_Account: bob }],
      UserDefinedDataList: [{ Key: "region", Value: "alps" }],
    });
    expect(after.body.EventTime).toEqual(expect.any(Number));

    const added = await rest("group_open_http_svc/add_group_member", { GroupId: groupId, MemberList: [carol, refusedOne, dave].map((m) => ({ Member_Account: m })) });
    expect(added.ErrorCode).toBe(0);
    expect(added.MemberList).toEqual([
      { Member_Account: carol, Result: 1 },
      { Member_Account: refusedOne, Result: 0 },
      { Member_Account: dave, Result: 1 },
    ]);
    expect(await membersOf(groupId)).toEqual([bob, carol, dave, owner].sort());
    expect((await one("Group.CallbackBeforeInviteJoinGroup", groupId)).body).toMatchObject({
      GroupId: groupId,
      Type: "Public",
      Operator_Account: app.admins[0],
      DestinationMembers: [{ Member_Account: carol }, { Member_Account: refusedOne }, { Member_Account: dave }],
    });
    expect((await one("Group.CallbackAfterNewMemberJoin", groupId)).body).toMatchObject({
      JoinType: "Invited",
      Operator_Account: app.admins[0],
      NewMemberList: [{ Member_Account: carol }, { Member_Account: dave }],
    });
  });

  it("asks before an application, refuses one, and names the client's platform and address", async () => {
    const ownerDevice = await connectAs(owner, "Android");
    const made = await ownerDevice.request("createGroup", { type: "Public", name: "open door", joinOption: "FreeAccess" });
    expect(made.code).toBe(0);
    const groupId = (made.data as { groupID?: string; groupId?: string }).groupID ?? (made.data as { groupId: string }).groupId;
    const created = await one("Group.CallbackAfterCreateGroup", groupId);
    expect(created.query.get("OptPlatform")).toBe("Android");
    expect(created.query.get("ClientIP")).toMatch(/\d|:/);
    expect(created.body.Operator_Account).toBe(owner);

    refusedApplicants.add(turnedAway);
    const away = await connectAs(turnedAway, "iOS");
    const refused = await away.request("joinGroup", { groupID: groupId });
    expect(refused.code).toBe(10016);
    const welcome = await connectAs(applicant, "Web");
    expect((await welcome.request("joinGroup", { groupID: groupId })).code).toBe(0);
    expect(await membersOf(groupId)).toEqual([applicant, owner].sort());

    const asked = seen("Group.CallbackBeforeApplyJoinGroup", groupId);
    expect(asked.map((r) => [r.body.Requestor_Account, r.query.get("OptPlatform")])).toEqual([
      [turnedAway, "iOS"],
      [applicant, "Web"],
    ]);
    expect(asked[0]!.body).toMatchObject({ CallbackCommand: "Group.CallbackBeforeApplyJoinGroup", GroupId: groupId, Type: "Public" });
    const joined = await one("Group.CallbackAfterNewMemberJoin", groupId);
    expect(joined.body).toMatchObject({ JoinType: "Apply", Operator_Account: applicant, NewMemberList: [{ Member_Account: applicant }] });
    expect(joined.query.get("OptPlatform")).toBe("Web");

    expect((await welcome.request("quitGroup", { groupID: groupId })).code).toBe(0);
    const quit = await one("Group.CallbackAfterMemberExit", groupId);
    expect(quit.body).toMatchObject({ ExitType: "Quit", Operator_Account: applicant, ExitMemberList: [{ Member_Account: applicant }] });

    // The send callbacks name the client too.
    expect((await ownerDevice.request("sendGroupMessage", { groupID: groupId, random: 5, body: text("from the phone") })).code).toBe(0);
    expect((await one("Group.CallbackBeforeSendMsg", groupId)).query.get("OptPlatform")).toBe("Android");
    expect((await one("Group.CallbackAfterSendMsg", groupId)).query.get("OptPlatform")).toBe("Android");
  });

  it("tells the backend of kicks, profile, owner, member and attribute changes, recalls, a full group and its end, in order", async () => {
    const created = await rest("group_open_http_svc/create_group", { Owner_Account: owner, Type: "Private", Name: "crew", MaxMemberNum: 4, MemberList: [{ Member_Account: bob }] });
    const groupId = created.GroupId as string;
    const ok = async (path: string, body: Record<string, unknown>) => expect((await rest(`group_open_http_svc/${path}`, { GroupId: groupId, ...body })).ErrorCode, path).toBe(0);
    await ok("add_group_member", { MemberList: [{ Member_Account: carol }, { Member_Account: dave }] });
    await ok("delete_group_member", { MemberToDel_Account: [dave] });
    await ok("modify_group_base_info", { Notification: "Sunday 9am", MaxMemberNum: 10 });
    await ok("modify_group_base_info", { MaxMemberNum: 12 });
    await ok("change_group_owner", { NewOwner_Account: bob });
    await ok("modify_group_member_info", { Member_Account: carol, NameCard: "Caro" });
    await ok("modify_group_member_info", { Member_Account: carol, MsgFlag: "AcceptNotNotify" });
    await ok("modify_group_attr", { GroupAttr: [{ key: "seat", value: "1" }] });
    await ok("delete_group_attr", { GroupAttr: [{ key: "seat" }] });
    const sent = await rest("group_open_http_svc/send_group_msg", { GroupId: groupId, From_Account: carol, Random: 9, MsgBody: text("oops") });
    await ok("group_msg_recall", { MsgSeqList: [{ MsgSeq: sent.MsgSeq }] });
    await ok("destroy_group", {});

    const order = [
      "Group.CallbackAfterCreateGroup",
      "Group.CallbackAfterNewMemberJoin",
      "Group.CallbackAfterGroupFull",
      "Group.CallbackAfterMemberExit",
      "Group.CallbackAfterGroupInfoChanged",
      "Group.CallbackAfterChangeGroupOwner",
      "Group.CallbackAfterMemberFieldChanged",
      "Group.CallbackAfterGroupAttrChanged",
      "Group.CallbackAfterGroupAttrChanged",
      "Group.CallbackAfterSendMsg",
      "Group.CallbackAfterRecallMsg",
      "Group.CallbackAfterGroupDestroyed",
    ];
    const afters = () => received.filter((r) => r.ok && r.body.GroupId === groupId && r.query.get("CallbackCommand")!.startsWith("Group.CallbackAfter"));
    await until("the group's end", () => seen("Group.CallbackAfterGroupDestroyed", groupId)[0]);
    expect(afters().map((r) => r.query.get("CallbackCommand"))).toEqual(order);
    const [, , full, exit, info, ownerChange, member, attrSet, attrDeleted, , recall, destroyed] = afters().map((r) => r.body);
    const operator = app.admins[0];
    expect(full).toEqual({ CallbackCommand: "Group.CallbackAfterGroupFull", EventTime: expect.any(Number), GroupId: groupId });
    expect(exit).toMatchObject({ Type: "Private", ExitType: "Kicked", Operator_Account: operator, ExitMemberList: [{ Member_Account: dave }] });
    expect(info).toEqual({ CallbackCommand: "Group.CallbackAfterGroupInfoChanged", EventTime: expect.any(Number), GroupId: groupId, Type: "Private", Operator_Account: operator, Notification: "Sunday 9am" });
    expect(ownerChange).toMatchObject({ Operator_Account: operator, OldOwner_Account: owner, NewOwner_Account: bob });
    expect(member).toMatchObject({ Operator_Account: operator, Modified_Account: carol, Role: "Member", NameCard: "Caro" });
    expect(attrSet).toMatchObject({ OptionType: "modify", GroupAttr: [{ key: "seat", value: "1" }] });
    expect(attrDeleted).toMatchObject({ OptionType: "delete", GroupAttr: [{ key: "seat", value: "" }] });
    expect(recall).toMatchObject({ Operator_Account: operator, Type: "Private", MsgSeqList: [{ MsgSeq: sent.MsgSeq }] });
    expect(destroyed).toMatchObject({ Type: "Private", Owner_Account: bob, Name: "crew" });
    expect((destroyed!.MemberList as { Member_Account: string }[]).map((m) => m.Member_Account).sort()).toEqual([bob, carol, owner].sort());
  });

  it("a receiver that is down gets the group's after-callbacks in order once it is back", async () => {
    const created = await rest("group_open_http_svc/create_group", { Owner_Account: owner, Type: "Public", Name: "patient", MemberList: [{ Member_Account: bob }] });
    const groupId = created.GroupId as string;
    await one("Group.CallbackAfterCreateGroup", groupId);
    receiverDown = true;
    const notes: string[] = [];
    for (let i = 0; i < 20; i++) {
      notes.push(`note ${i}`);
      expect((await rest("group_open_http_svc/modify_group_base_info", { GroupId: groupId, Notification: `note ${i}` })).ErrorCode).toBe(0);
    }
    await until("a refused attempt", () => (received.some((r) => !r.ok && r.body.GroupId === groupId) ? true : undefined));
    receiverDown = false;
    const firstSeen = () => [...new Set(seen("Group.CallbackAfterGroupInfoChanged", groupId).map((r) => r.body.Notification as string))];
    await until("all 20 after-callbacks", () => (firstSeen().length === 20 ? true : undefined), 45_000);
    expect(firstSeen()).toEqual(notes);
  }, 60_000);
});

describe("a group before-callback that does not answer in time", () => {
  let receiver: Server;
  let server: RunningServer;
  let app: { sdkAppId: number; admins: string[]; secretKey: string };
  let url: string;
  const owner = `gcb_slow_${Date.now().toString(36)}`;

  beforeAll(async () => {
    receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
      let raw = "";
      req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
      req.on("end", () => answer({ ok: true, query: new URL(req.url!, "http://x").searchParams, body: JSON.parse(raw || "{}") as Record<string, unknown> }, res));
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/im-callback`;
    // No IM_CALLBACK_URL: the app's own settings, set over REST, decide.
    ({ server, app } = await startServerWithOwnKey());
    expect((await rest("im_open_login_svc/account_import", { UserID: owner })).ErrorCode).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  async function rest(path: string, body: unknown): Promise<Record<string, unknown>> {
    const admin = app.admins[0]!;
    const sig = await generateUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier: admin });
    const address = `${server.base}/v4/${path}?sdkappid=${app.sdkAppId}&identifier=${admin}&usersig=${sig}&random=1&contenttype=json`;
    return (await (await fetch(address, { method: "POST", body: JSON.stringify(body) })).json()) as Record<string, unknown>;
  }

  const timed = async (what: () => Promise<Record<string, unknown>>) => {
    const started = Date.now();
    const answer = await what();
    return { answer, ms: Date.now() - started };
  };
  const createSlow = (groupId: string) => rest("group_open_http_svc/create_group", { Owner_Account: owner, Type: "Public", Name: "slow", GroupId: groupId });
  const exists = async (groupId: string) => ((await rest("group_open_http_svc/get_group_info", { GroupIdList: [groupId] })).GroupInfo as { ErrorCode: number }[])[0]!.ErrorCode === 0;

  it("refuses the creation with 80003 when the app says so, without waiting past the timeout", async () => {
    const set = await rest("edgeim_admin_svc/set_callback", { CallbackUrl: url, CallbackCommands: ["Group.CallbackBeforeCreateGroup"], TimeoutMs: 500, OnTimeout: "Refuse" });
    expect(set.ErrorCode).toBe(0);
    const { answer, ms } = await timed(() => createSlow("slow_refused"));
    expect(answer).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 80003 });
    expect(ms).toBeLessThan(2_000);
    expect(await exists("slow_refused")).toBe(false);
    expect(server.output()).toMatch(/"event":"callback".*"command":"Group.CallbackBeforeCreateGroup".*"outcome":"timeout"/);
  });

  it("creates the group after the timeout when the app lets actions proceed", async () => {
    expect((await rest("edgeim_admin_svc/set_callback", { CallbackUrl: url, CallbackCommands: ["Group.CallbackBeforeCreateGroup"], TimeoutMs: 500, OnTimeout: "Proceed" })).ErrorCode).toBe(0);
    const { answer, ms } = await timed(() => createSlow("slow_proceeds"));
    expect(answer.ErrorCode).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(450);
    expect(ms).toBeLessThan(2_000);
    expect(await exists("slow_proceeds")).toBe(true);
  });
});
