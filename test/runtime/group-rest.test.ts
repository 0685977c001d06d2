/** group_open_http_svc and openim/modify_group_msg, called with Tencent's field names as a Tencent client would. */
import {  } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { ProtocolClient } from "../support/protocol-client.ts";
import { aRandom, text, TestClient } from "./clients.ts";
import { appWithUsers, type RestAnswer, type TestApp } from "./helpers.ts";

let counter = 0;
const aGroupId = () => `rest${Date.now().toString(36)}${counter++}`;

/**
 * A group made through create_group: `owner` and `members` are in it, `outsiders` are accounts of
 * the app that are not.
 */
async function aRestGroup(type = "Public", options: { members?: number; outsiders?: number } = {}) {
  const memberCount = options.members ?? 2;
  const { app, ids } = await appWithUsers(1 + memberCount + (options.outsiders ?? 2));
  const [owner, ...rest] = ids as [string, ...string[]];
  const members = rest.slice(0, memberCount);
  const outsiders = rest.slice(memberCount);
  const groupId = aGroupId();
  ok(await app.rest("group_open_http_svc/create_group", { Type: type, Name: "team", GroupId: groupId, Owner_Account: owner, MemberList: members.map((m) => ({ Member_Account: m })) }));
  const g = (command: string, body: Record<string, unknown> = {}) => app.rest(`group_open_http_svc/${command}`, { GroupId: groupId, ...body });
  return { app, groupId, owner, members, outsiders, g };
}

function ok(answer: RestAnswer): RestAnswer["body"] {
  if (answer.body.ErrorCode !== 0) throw new Error(`expected OK, got ${answer.body.ErrorCode} ${answer.body.ErrorInfo}`);
  expect(answer.body.ActionStatus).toBe("OK");
  return answer.body;
}

function refused(answer: RestAnswer, code: number): void {
  expect({ code: answer.body.ErrorCode, status: answer.body.ActionStatus }, answer.body.ErrorInfo).toEqual({ code, status: "FAIL" });
}

async function info(app: TestApp, groupId: string, filter?: Record<string, unknown>) {
  const body = ok(await app.rest("group_open_http_svc/get_group_info", { GroupIdList: [groupId], ...(filter ? { ResponseFilter: filter } : {}) }));
  return (body.GroupInfo as Record<string, unknown>[])[0]!;
}

async function memberAccounts(app: TestApp, groupId: string): Promise<string[]> {
  const body = ok(await app.rest("group_open_http_svc/get_group_member_info", { GroupId: groupId }));
  return (body.MemberList as { Member_Account: string }[]).map((m) => m.Member_Account).sort();
}

async function history(app: TestApp, groupId: string, extra: Record<string, unknown> = {}) {
  const body = ok(await app.rest("group_open_http_svc/group_msg_get_simple", { GroupId: groupId, ReqMsgNumber: 20, ...extra }));
  return body as unknown as { IsFinished: number; RspMsgList: Record<string, unknown>[] };
}

const send = (app: TestApp, groupId: string, words: string, extra: Record<string, unknown> = {}) =>
  app.rest("group_open_http_svc/send_group_msg", { GroupId: groupId, Random: aRandom(), MsgBody: text(words), ...extra });

const groupConnection = (app: TestApp, userId: string) => TestClient.connectGroups(app, userId);

afterEach(() => ProtocolClient.closeAll());

describe("create_group", () => {
  it("generates an id for GroupId \"\", takes MaxMemberCount as MaxMemberNum, and keeps members, roles and custom data", async () => {
    const { app, ids } = await appWithUsers(3);
    const [owner, admin, member] = ids as [string, string, string];
    const created = ok(
      await app.rest("group_open_http_svc/create_group", {
        Type: "Public",
        Name: "friends",
        GroupId: "",
        Owner_Account: owner,
        Introduction: "",
        MaxMemberCount: 50,
        ApplyJoinOption: "FreeAccess",
        AppDefinedData: [{ Key: "level", Value: "3" }],
        MemberList: [{ Member_Account: admin, Role: "Admin", AppMemberDefinedData: [{ Key: "seat", Value: "a1" }] }, { Member_Account: member }],
      }),
    );
    expect(created.GroupId).toMatch(/^@TGS#/);
    const group = await info(app, created.GroupId as string);
    expect(group).toMatchObject({
      GroupId: created.GroupId,
      ErrorCode: 0,
      Type: "Public",
      Name: "friends",
      Appid: app.sdkAppId,
      Owner_Account: owner,
      MaxMemberNum: 50,
      MemberNum: 3,
      ApplyJoinOption: "FreeAccess",
      MuteAllMember: "Off",
      NextMsgSeq: 1,
      AppDefinedData: [{ Key: "level", Value: "3" }],
    });
    const list = group.MemberList as Record<string, unknown>[];
    expect(list.find((m) => m.Member_Account === admin)).toMatchObject({ Role: "Admin", AppMemberDefinedData: [{ Key: "seat", Value: "a1" }] });
    expect(list.find((m) => m.Member_Account === member)).toMatchObject({ Role: "Member", MsgFlag: "AcceptAndNotify" });
  });

  it("refuses a taken id (10021; 10025 for its own owner), an @TGS# id (10015), an oversize Name (10004) and 101 members (10005), creating nothing", async () => {
    const { app, groupId, owner, outsiders } = await aRestGroup();
    refused(await app.rest("group_open_http_svc/create_group", { Type: "Public", Name: "again", GroupId: groupId, Owner_Account: outsiders[0] }), 10021);
    refused(await app.rest("group_open_http_svc/create_group", { Type: "Public", Name: "again", GroupId: groupId, Owner_Account: owner }), 10025);
    expect(await info(app, groupId, { GroupBaseInfoFilter: ["Name"] })).toMatchObject({ Name: "team" });

    const other = aGroupId();
    refused(await app.rest("group_open_http_svc/create_group", { Type: "Public", Name: "x", GroupId: "@TGS#mine" }), 10015);
    refused(await app.rest("group_open_http_svc/create_group", { Type: "Public", Name: "n".repeat(31), GroupId: other }), 10004);
    const crowd = Array.from({ length: 101 }, (_, i) => ({ Member_Account: `m${i}` }));
    refused(await app.rest("group_open_http_svc/create_group", { Type: "Public", Name: "crowd", GroupId: other, MemberList: crowd }), 10005);
    refused(await app.rest("group_open_http_svc/create_group", { Type: "Private", Name: "x", GroupId: other, MemberList: [{ Member_Account: outsiders[0], Role: "Owner" }] }), 10004);
    expect((await info(app, other)).ErrorCode).toBe(10010);
    expect((await info(app, "@TGS#mine")).ErrorCode).toBe(10010);
  });
});

describe("get_group_info", () => {
  it("answers each group with its own ErrorCode, and the call is OK when some fail", async () => {
    const { app, groupId } = await aRestGroup();
    const body = ok(await app.rest("group_open_http_svc/get_group_info", { GroupIdList: [groupId, "nosuchgroup", "bad id\u0001"] }));
    expect((body.GroupInfo as Record<string, unknown>[]).map((g) => [g.GroupId, g.ErrorCode])).toEqual([
      [groupId, 0],
      ["nosuchgroup", 10010],
      ["bad id\u0001", 10015],
    ]);
  });

  it("honours its ResponseFilter: only the base fields, member fields and custom keys it names", async () => {
    const { app, groupId, owner, g } = await aRestGroup();
    ok(await g("modify_group_base_info", { AppDefinedData: [{ Key: "a", Value: "1" }, { Key: "b", Value: "2" }] }));
    ok(await g("modify_group_member_info", { Member_Account: owner, AppMemberDefinedData: [{ Key: "x", Value: "1" }, { Key: "y", Value: "2" }] }));
    const group = await info(app, groupId, {
      GroupBaseInfoFilter: ["Type", "MemberNum", "ShutUpAllMember"],
      MemberInfoFilter: ["Role"],
      AppDefinedDataFilter_Group: ["b"],
      AppDefinedDataFilter_GroupMember: ["y"],
    });
    expect(Object.keys(group).sort()).toEqual(["AppDefinedData", "ErrorCode", "ErrorInfo", "GroupId", "MemberList", "MemberNum", "ShutUpAllMember", "Type"]);
    expect(group.AppDefinedData).toEqual([{ Key: "b", Value: "2" }]);
    expect((group.MemberList as Record<string, unknown>[]).find((m) => m.Member_Account === owner)).toEqual({
      Member_Account: owner,
      Role: "Owner",
      AppMemberDefinedData: [{ Key: "y", Value: "2" }],
    });
    const bare = await info(app, groupId, { GroupBaseInfoFilter: ["Name"] });
    expect(Object.keys(bare).sort()).toEqual(["ErrorCode", "ErrorInfo", "GroupId", "Name"]);
  });

  it("takes at most 50 group ids (10004)", async () => {
    const { app } = await aRestGroup();
    refused(await app.rest("group_open_http_svc/get_group_info", { GroupIdList: Array.from({ length: 51 }, (_, i) => `g${i}`) }), 10004);
  });
});

describe("modify_group_base_info", () => {
  it("moves LastInfoTime from CreateTime to the time of the change", async () => {
    const { app, groupId, g } = await aRestGroup();
    const before = (await info(app, groupId)) as { CreateTime: number; LastInfoTime: number };
    expect(before.LastInfoTime).toBe(before.CreateTime);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    ok(await g("modify_group_base_info", { Notification: "news" }));
    const after = (await info(app, groupId)) as { CreateTime: number; LastInfoTime: number };
    expect(after.LastInfoTime).toBeGreaterThan(after.CreateTime);
  });

  it("changes the profile, takes MuteAllMember and the older ShutUpAllMember, and deletes a custom key given an empty Value", async () => {
    const { app, groupId, g } = await aRestGroup();
    ok(await g("modify_group_base_info", { Name: "renamed", Introduction: "about us", MuteAllMember: "On", AppDefinedData: [{ Key: "k", Value: "v" }] }));
    expect(await info(app, groupId)).toMatchObject({ Name: "renamed", Introduction: "about us", MuteAllMember: "On", InfoSeq: 1, AppDefinedData: [{ Key: "k", Value: "v" }] });
    ok(await g("modify_group_base_info", { ShutUpAllMember: "Off", AppDefinedData: [{ Key: "k", Value: "" }], ApplyJoinOption: "" }));
    expect(await info(app, groupId)).toMatchObject({ MuteAllMember: "Off", AppDefinedData: [] });
  });

  it("refuses an oversize Introduction (10004), muting a Work group (10007) and 11 custom keys (10004), changing nothing", async () => {
    const { app, groupId, g } = await aRestGroup();
    refused(await g("modify_group_base_info", { Name: "new", Introduction: "i".repeat(241) }), 10004);
    const tooMany = Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: "v" }));
    refused(await g("modify_group_base_info", { Name: "new", AppDefinedData: tooMany }), 10004);
    expect(await info(app, groupId)).toMatchObject({ Name: "team", Introduction: "", InfoSeq: 0, AppDefinedData: [] });
    const work = await aRestGroup("Private");
    refused(await work.g("modify_group_base_info", { MuteAllMember: "On" }), 10007);
    expect(await info(work.app, work.groupId)).toMatchObject({ MuteAllMember: "Off" });
  });
});

describe("destroy_group", () => {
  it("dismisses the group: afterwards every command on it answers 10010 and nothing is created again", async () => {
    const { app, groupId, owner, outsiders, g } = await aRestGroup();
    ok(await g("destroy_group"));
    expect((await info(app, groupId)).ErrorCode).toBe(10010);
    refused(await g("add_group_member", { MemberList: [{ Member_Account: outsiders[0] }] }), 10010);
    refused(await send(app, groupId, "hello?"), 10010);
    refused(await g("modify_group_base_info", { Name: "zombie" }), 10010);
    refused(await g("get_group_member_info"), 10010);
    refused(await g("group_msg_get_simple", { ReqMsgNumber: 5 }), 10010);
    refused(await g("destroy_group"), 10010);
    const joined = ok(await app.rest("group_open_http_svc/get_joined_group_list", { Member_Account: owner }));
    expect(joined.TotalCount).toBe(0);
    expect((await info(app, groupId)).ErrorCode).toBe(10010);
  });

  it("cannot reach a group of another app: the same id there is another group (10010), and this one stays", async () => {
    const { app, groupId } = await aRestGroup();
    const { app: other, ids } = await appWithUsers(1);
    refused(await other.rest("group_open_http_svc/destroy_group", { GroupId: groupId }), 10010);
    expect((await info(other, groupId)).ErrorCode).toBe(10010);
    const added = ok(await app.rest("group_open_http_svc/add_group_member", { GroupId: groupId, MemberList: [{ Member_Account: ids[0] }] }));
    expect(added.MemberList).toEqual([{ Member_Account: ids[0], Result: 0 }]);
    expect(await info(app, groupId, { GroupBaseInfoFilter: ["MemberNum"] })).toMatchObject({ ErrorCode: 0, MemberNum: 3 });
  });
});

describe("change_group_owner", () => {
  it("hands the group to a member; a non-member is refused (10004) and the owner stays", async () => {
    const { app, groupId, owner, members, outsiders, g } = await aRestGroup();
    refused(await g("change_group_owner", { NewOwner_Account: outsiders[0] }), 10004);
    expect(await info(app, groupId, { GroupBaseInfoFilter: ["Owner_Account"] })).toMatchObject({ Owner_Account: owner });
    ok(await g("change_group_owner", { NewOwner_Account: members[0] }));
    const roles = ok(await g("get_role_in_group", { User_Account: [owner, members[0], outsiders[0]] }));
    expect(roles.UserIdList).toEqual([
      { Member_Account: owner, Role: "Member" },
      { Member_Account: members[0], Role: "Owner" },
      { Member_Account: outsiders[0], Role: "NotMember" },
    ]);
  });
});

describe("get_appid_group_list", () => {
  it("is limited to one call a second, as Tencent limits it", async () => {
    const { app } = await appWithUsers(1);
    ok(await app.rest("group_open_http_svc/get_appid_group_list", {}));
    refused(await app.rest("group_open_http_svc/get_appid_group_list", {}), 60007);
  });

  it("pages the app's groups with Limit and Next, and filters by GroupType (\"\" lists every type)", async () => {
    // An app may raise the limit (commandRateLimits), which this test does to page quickly.
    const { app, ids } = await appWithUsers(1, { commandRateLimits: { "group_open_http_svc/get_appid_group_list": 100 } });
    const made: string[] = [];
    for (const type of ["Public", "Private", "Public"]) {
      made.push(ok(await app.rest("group_open_http_svc/create_group", { Type: type, Name: "g", Owner_Account: ids[0] })).GroupId as string);
    }
    const first = ok(await app.rest("group_open_http_svc/get_appid_group_list", { Limit: 2, Next: 0, GroupType: "" }));
    expect(first.TotalCount).toBe(3);
    expect(first.Next).not.toBe(0);
    const second = ok(await app.rest("group_open_http_svc/get_appid_group_list", { Limit: 2, Next: first.Next }));
    expect(second.Next).toBe(0);
    const listed = [...(first.GroupIdList as { GroupId: string }[]), ...(second.GroupIdList as { GroupId: string }[])].map((g) => g.GroupId);
    expect(listed.sort()).toEqual([...made].sort());
    const publicOnly = ok(await app.rest("group_open_http_svc/get_appid_group_list", { GroupType: "Public" }));
    expect(publicOnly).toMatchObject({ TotalCount: 2, Next: 0 });
    expect((publicOnly.GroupIdList as { GroupId: string }[]).map((g) => g.GroupId).sort()).toEqual([made[0], made[2]].sort());
    refused(await app.rest("group_open_http_svc/get_appid_group_list", { Limit: 10001 }), 10004);
  });
});

describe("get_joined_group_list", () => {
  it("lists a user's groups with Limit/Offset and GroupType, and the base fields and SelfInfo its ResponseFilter asks for", async () => {
    const { app, ids } = await appWithUsers(2);
    const [user, other] = ids as [string, string];
    const work = ok(await app.rest("group_open_http_svc/create_group", { Type: "Private", Name: "work", Owner_Account: other, MemberList: [{ Member_Account: user }] })).GroupId;
    const pub = ok(await app.rest("group_open_http_svc/create_group", { Type: "Public", Name: "pub", Introduction: "hi", Owner_Account: user })).GroupId;
    const all = ok(await app.rest("group_open_http_svc/get_joined_group_list", { Member_Account: user, GroupType: "" }));
    expect(all.TotalCount).toBe(2);
    expect((all.GroupIdList as Record<string, unknown>[]).map((g) => Object.keys(g))).toEqual([["GroupId"], ["GroupId"]]);

    const filtered = ok(
      await app.rest("group_open_http_svc/get_joined_group_list", {
        Member_Account: user,
        GroupType: "Public",
        ResponseFilter: { GroupBaseInfoFilter: ["Name", "Introduction", "MemberNum"], SelfInfoFilter: ["Role", "MsgFlag", "UnreadMsgNum"] },
      }),
    );
    expect(filtered.TotalCount).toBe(1);
    expect(filtered.GroupIdList).toEqual([{ GroupId: pub, Name: "pub", Introduction: "hi", MemberNum: 1, SelfInfo: { Role: "Owner", MsgFlag: "AcceptAndNotify", UnreadMsgNum: 0 } }]);

    const paged = ok(await app.rest("group_open_http_svc/get_joined_group_list", { Member_Account: user, Limit: 1, Offset: 1 }));
    expect(paged.TotalCount).toBe(2);
    expect((paged.GroupIdList as unknown[]).length).toBe(1);
    expect([work, pub]).toContain((paged.GroupIdList as { GroupId: string }[])[0]!.GroupId);
  });
});

describe("import_group", () => {
  it("keeps the group's CreateTime; a live room or a CreateTime in the future is refused (10004)", async () => {
    const { app, ids } = await appWithUsers(1);
    const groupId = aGroupId();
    ok(await app.rest("group_open_http_svc/import_group", { Type: "Public", Name: "old", GroupId: groupId, Owner_Account: ids[0], CreateTime: 1_500_000_000 }));
    expect(await info(app, groupId)).toMatchObject({ CreateTime: 1_500_000_000, Owner_Account: ids[0] });
    refused(await app.rest("group_open_http_svc/import_group", { Type: "AVChatRoom", Name: "live", GroupId: aGroupId() }), 10004);
    const later = aGroupId();
    refused(await app.rest("group_open_http_svc/import_group", { Type: "Public", Name: "later", GroupId: later, CreateTime: 4_000_000_000 }), 10004);
    expect((await info(app, later)).ErrorCode).toBe(10010);
  });
});

describe("get_group_member_info and get_specified_group_member_info", () => {
  it("pages members with Limit/Offset, and honours MemberInfoFilter and MemberRoleFilter", async () => {
    const { groupId, owner, members, g } = await aRestGroup("Public", { members: 3 });
    const first = ok(await g("get_group_member_info", { Limit: 2, Offset: 0, MemberInfoFilter: ["Role", "NameCard"] }));
    expect(first.MemberNum).toBe(4);
    expect((first.MemberList as unknown[]).length).toBe(2);
    expect(Object.keys((first.MemberList as Record<string, unknown>[])[0]!).sort()).toEqual(["Member_Account", "NameCard", "Role"]);
    const rest = ok(await g("get_group_member_info", { Limit: 2, Offset: 2 }));
    const everyone = [...(first.MemberList as { Member_Account: string }[]), ...(rest.MemberList as { Member_Account: string }[])].map((m) => m.Member_Account);
    expect(everyone.sort()).toEqual([owner, ...members].sort());
    const owners = ok(await g("get_group_member_info", { MemberRoleFilter: ["Owner"] }));
    expect((owners.MemberList as Record<string, unknown>[]).map((m) => m.Member_Account)).toEqual([owner]);
    expect((owners.MemberList as Record<string, unknown>[])[0]).toMatchObject({ Role: "Owner", MsgSeq: 0, MuteUntil: 0, AppMemberDefinedData: [] });

    const some = ok(await g("get_specified_group_member_info", { Member_List_Account: [members[0], "nobody"], MemberInfoFilter: ["Role"] }));
    expect(some).toMatchObject({ GroupId: groupId, MemberList: [{ Member_Account: members[0], Role: "Member" }] });
    refused(await g("get_specified_group_member_info", { Member_List_Account: Array.from({ length: 51 }, (_, i) => `u${i}`) }), 10005);
  });
});

describe("get_group_member_info in a Community group", () => {
  it("pages by Next (\"\" first, \"\" when done)", async () => {
    const { app, ids } = await appWithUsers(3);
    const [owner, ...members] = ids as [string, ...string[]];
    const groupId = ok(await app.rest("group_open_http_svc/create_group", { Type: "Community", Name: "c", GroupId: "", Owner_Account: owner, MemberList: members.map((m) => ({ Member_Account: m })) })).GroupId;
    expect(groupId).toMatch(/^@TGS#_/);
    const first = ok(await app.rest("group_open_http_svc/get_group_member_info", { GroupId: groupId, Limit: 2, Next: "" }));
    expect(first.Next).toBe("2");
    const second = ok(await app.rest("group_open_http_svc/get_group_member_info", { GroupId: groupId, Limit: 2, Next: first.Next }));
    expect(second.Next).toBe("");
    const listed = [...(first.MemberList as { Member_Account: string }[]), ...(second.MemberList as { Member_Account: string }[])].map((m) => m.Member_Account);
    expect(listed.sort()).toEqual([...ids].sort());
  });
});

describe("get_role_in_group", () => {
  it("takes at most 500 accounts (10005)", async () => {
    const { g } = await aRestGroup();
    refused(await g("get_role_in_group", { User_Account: Array.from({ length: 501 }, (_, i) => `u${i}`) }), 10005);
  });
});

describe("add_group_member and delete_group_member", () => {
  it("answers each member's Result: 1 added, 2 already a member, 0 failed", async () => {
    const { app, groupId, owner, members, outsiders, g } = await aRestGroup();
    const added = ok(await g("add_group_member", { Silence: 1, MemberList: [{ Member_Account: outsiders[0] }, { Member_Account: members[0] }, { Member_Account: "ghost" }] }));
    expect(added.MemberList).toEqual([
      { Member_Account: outsiders[0], Result: 1 },
      { Member_Account: members[0], Result: 2 },
      { Member_Account: "ghost", Result: 0 },
    ]);
    expect(await memberAccounts(app, groupId)).toEqual([owner, ...members, outsiders[0]].sort());
  });

  it("refuses more than 300 members at once (10005) and adds none of them", async () => {
    const { app, groupId, owner, members, outsiders, g } = await aRestGroup();
    const many = [outsiders[0]!, ...Array.from({ length: 300 }, (_, i) => `x${i}`)].map((m) => ({ Member_Account: m }));
    refused(await g("add_group_member", { MemberList: many }), 10005);
    expect(await memberAccounts(app, groupId)).toEqual([owner, ...members].sort());
  });

  it("removes members with a Reason; removing the owner is refused (10007) and removes no one", async () => {
    const { app, groupId, owner, members, g } = await aRestGroup();
    refused(await g("delete_group_member", { MemberToDel_Account: [members[0], owner] }), 10007);
    expect(await memberAccounts(app, groupId)).toEqual([owner, ...members].sort());
    ok(await g("delete_group_member", { Silence: 0, Reason: "bye", MemberToDel_Account: [members[0]] }));
    expect(await memberAccounts(app, groupId)).toEqual([owner, members[1]!].sort());
    refused(await g("delete_group_member", { MemberToDel_Account: Array.from({ length: 101 }, (_, i) => `x${i}`) }), 10005);
  });
});

describe("modify_group_member_info", () => {
  it("sets Role, MsgFlag, NameCard, custom data and MuteTime (or the older ShutUpTime)", async () => {
    const { members, g } = await aRestGroup();
    const [member] = members as [string];
    ok(await g("modify_group_member_info", { Member_Account: member, Role: "Admin", MsgFlag: "AcceptNotNotify", NameCard: "Bo", AppMemberDefinedData: [{ Key: "k", Value: "v" }], MuteTime: 60 }));
    const [after] = ok(await g("get_specified_group_member_info", { Member_List_Account: [member] })).MemberList as Record<string, number | string>[];
    expect(after).toMatchObject({ Role: "Admin", MsgFlag: "AcceptNotNotify", NameCard: "Bo", AppMemberDefinedData: [{ Key: "k", Value: "v" }] });
    expect(after!.MuteUntil as number).toBeGreaterThan(Date.now() / 1000 + 50);
    ok(await g("modify_group_member_info", { Member_Account: member, ShutUpTime: 0 }));
    const [unmuted] = ok(await g("get_specified_group_member_info", { Member_List_Account: [member] })).MemberList as Record<string, unknown>[];
    expect(unmuted).toMatchObject({ MuteUntil: 0 });
  });

  it("refuses a non-member (10007), an oversize NameCard (10004) and an admin in a Work group (10007), changing nothing", async () => {
    const { members, outsiders, g } = await aRestGroup();
    refused(await g("modify_group_member_info", { Member_Account: outsiders[0], NameCard: "x" }), 10007);
    refused(await g("modify_group_member_info", { Member_Account: members[0], NameCard: "n".repeat(51) }), 10004);
    const [member] = ok(await g("get_specified_group_member_info", { Member_List_Account: [members[0]] })).MemberList as Record<string, unknown>[];
    expect(member).toMatchObject({ NameCard: "", Role: "Member" });
    const work = await aRestGroup("Private");
    refused(await work.g("modify_group_member_info", { Member_Account: work.members[0], Role: "Admin" }), 10007);
    expect(ok(await work.g("get_role_in_group", { User_Account: [work.members[0]] })).UserIdList).toEqual([{ Member_Account: work.members[0], Role: "Member" }]);
  });
});

describe("forbid_send_msg and get_group_muted_account", () => {
  it("mutes members for MuteTime (or ShutUpTime) seconds and lists them under both the current and the earlier names", async () => {
    const { groupId, members, g } = await aRestGroup();
    ok(await g("forbid_send_msg", { Members_Account: [members[0]], MuteTime: 120 }));
    ok(await g("forbid_send_msg", { Members_Account: [members[1]], ShutUpTime: 4294967295 }));
    const muted = ok(await g("get_group_muted_account"));
    expect(muted.GroupId).toBe(groupId);
    const list = muted.MutedAccountList as { Member_Account: string; MutedUntil: number }[];
    expect(list.map((m) => m.Member_Account).sort()).toEqual([...members].sort());
    expect(list.find((m) => m.Member_Account === members[1])!.MutedUntil).toBe(4294967295);
    const earlier = ok(await g("get_group_shutted_uin"));
    expect((earlier.ShuttedUinList as { Member_Account: string; ShuttedUntil: number }[]).find((m) => m.Member_Account === members[1])).toEqual({
      Member_Account: members[1],
      ShuttedUntil: 4294967295,
    });
    ok(await g("forbid_send_msg", { Members_Account: members, MuteTime: 0 }));
    expect(ok(await g("get_group_muted_account")).MutedAccountList).toEqual([]);
  });

  it("refuses muting the owner and muting in a Work group (10007), muting no one", async () => {
    const { owner, members, g } = await aRestGroup();
    refused(await g("forbid_send_msg", { Members_Account: [members[0], owner], MuteTime: 60 }), 10007);
    expect(ok(await g("get_group_muted_account")).MutedAccountList).toEqual([]);
    const work = await aRestGroup("Private");
    refused(await work.g("forbid_send_msg", { Members_Account: work.members, MuteTime: 60 }), 10007);
    refused(await work.g("import_group_member", { MemberList: [{ Member_Account: work.outsiders[0], Role: "Admin" }] }), 10004);
    expect(ok(await work.g("get_role_in_group", { User_Account: [work.outsiders[0]] })).UserIdList).toEqual([{ Member_Account: work.outsiders[0], Role: "NotMember" }]);
    refused(await g("forbid_send_msg", { Members_Account: [members[0]] }), 10004);
  });
});

describe("import_group_member and set_unread_msg_num", () => {
  it("imports members with their JoinTime and unread count (Result 1, 2 for members, 0 for unknown accounts)", async () => {
    const { app, groupId, members, outsiders, g } = await aRestGroup();
    for (const words of ["one", "two", "three"]) ok(await send(app, groupId, words));
    const imported = ok(
      await g("import_group_member", {
        MemberList: [
          { Member_Account: outsiders[0], Role: "Admin", JoinTime: 1_600_000_000, UnreadMsgNum: 2 },
          { Member_Account: members[0] },
          { Member_Account: "ghost" },
        ],
      }),
    );
    expect(imported.MemberList).toEqual([
      { Member_Account: outsiders[0], Result: 1 },
      { Member_Account: members[0], Result: 2 },
      { Member_Account: "ghost", Result: 0 },
    ]);
    const [member] = ok(await g("get_specified_group_member_info", { Member_List_Account: [outsiders[0]] })).MemberList as Record<string, unknown>[];
    expect(member).toMatchObject({ Role: "Admin", JoinTime: 1_600_000_000, MsgSeq: 1 });
  });

  it("sets a member's unread count by moving its read point; a non-member is refused (10007)", async () => {
    const { app, groupId, members, outsiders, g } = await aRestGroup("ChatRoom");
    for (const words of ["one", "two", "three"]) ok(await send(app, groupId, words));
    ok(await g("set_unread_msg_num", { Member_Account: members[0], UnreadMsgNum: 1 }));
    const [member] = ok(await g("get_specified_group_member_info", { Member_List_Account: [members[0]], MemberInfoFilter: ["MsgSeq"] })).MemberList as Record<string, unknown>[];
    expect(member).toEqual({ Member_Account: members[0], MsgSeq: 2 });
    refused(await g("set_unread_msg_num", { Member_Account: outsiders[0], UnreadMsgNum: 1 }), 10007);
    refused(await g("import_group_member", { MemberList: Array.from({ length: 501 }, (_, i) => ({ Member_Account: `u${i}` })) }), 10005);
    refused(await g("set_unread_msg_num", { Member_Account: members[0], UnreadMsgNum: -1 }), 10004);
  });
});

describe("send_group_msg", () => {
  it("answers MsgTime, MsgSeq and MsgDropReason; a retried Random is the same message", async () => {
    const { app, groupId, owner } = await aRestGroup();
    const random = aRandom();
    const sent = ok(await send(app, groupId, "hello", { Random: random, From_Account: owner, MsgPriority: "High", CloudCustomData: "cc" }));
    expect(sent).toMatchObject({ MsgSeq: 1, MsgDropReason: "" });
    expect(Math.abs((sent.MsgTime as number) - Date.now() / 1000)).toBeLessThan(5);
    const again = ok(await send(app, groupId, "hello", { Random: random, From_Account: owner }));
    expect(again.MsgSeq).toBe(1);
    const { RspMsgList } = await history(app, groupId);
    expect(RspMsgList).toEqual([
      { From_Account: owner, IsPlaceMsg: 0, IsSystemMsg: 0, MsgBody: text("hello"), MsgPriority: 1, MsgRandom: random, MsgSeq: 1, MsgTimeStamp: sent.MsgTime, MsgKey: `1_${random}_${sent.MsgTime}`, CloudCustomData: "cc" },
    ]);
  });

  it("delivers @mentions, @all and targeted messages to members' devices, and OnlineOnlyFlag leaves no history", async () => {
    const { app, groupId, owner, members } = await aRestGroup();
    const [named, other] = members as [string, string];
    const namedDevice = await groupConnection(app, named);
    const otherDevice = await groupConnection(app, other);
    ok(await send(app, groupId, "hi all", { From_Account: owner, GroupAtInfo: [{ GroupAtAllFlag: 1 }, { GroupAtAllFlag: 0, GroupAt_Account: named }], NeedReadReceipt: 1 }));
    const [mention] = await namedDevice.waitForEvents<{ message: Record<string, unknown> }>("groupMessage", 1);
    expect(mention!.message).toMatchObject({ from: owner, atAll: true, atUsers: [named], needReadReceipt: true });
    ok(await send(app, groupId, "just you", { To_Account: [named] }));
    await namedDevice.waitForEvents("groupMessage", 2);
    ok(await send(app, groupId, "fleeting", { OnlineOnlyFlag: 1 }));
    const seen = await otherDevice.waitForEvents<{ message: { body: unknown } }>("groupMessage", 2);
    expect(seen.map((e) => e.message.body)).toEqual([text("hi all"), text("fleeting")]);
    expect((await history(app, groupId)).RspMsgList.map((m) => m.MsgBody)).toEqual([text("just you"), text("hi all")]);
  });

  it("refuses more than 50 To_Account (10004), more than 30 @mentions (10053), an unknown From_Account (10019) and an oversize message (93000), storing nothing", async () => {
    const { app, groupId, members } = await aRestGroup();
    refused(await send(app, groupId, "x", { To_Account: Array.from({ length: 51 }, (_, i) => `t${i}`) }), 10004);
    refused(await send(app, groupId, "x", { GroupAtInfo: Array.from({ length: 31 }, () => ({ GroupAtAllFlag: 0, GroupAt_Account: members[0] })) }), 10053);
    refused(await send(app, groupId, "x", { From_Account: "ghost" }), 10019);
    refused(await send(app, groupId, "x".repeat(13 * 1024)), 93000);
    refused(await send(app, groupId, "x", { MsgPriority: "Urgent" }), 10004);
    expect((await history(app, groupId)).RspMsgList).toEqual([]);
  });
});

describe("send_group_system_notification", () => {
  it("sends a custom notice (operation type 255) to the members named, or to all", async () => {
    const { app, members, g } = await aRestGroup();
    const [named, other] = members as [string, string];
    const namedDevice = await groupConnection(app, named);
    const otherDevice = await groupConnection(app, other);
    ok(await g("send_group_system_notification", { Content: "only you", ToMembers_Account: [named] }));
    ok(await g("send_group_system_notification", { Content: "everyone", ToMembers_Account: [] }));
    const notices = await namedDevice.waitForEvents<{ operationType: number; message: string }>("groupSystemNotice", 2);
    expect(notices.map((n) => [n.operationType, n.message])).toEqual([
      [255, "only you"],
      [255, "everyone"],
    ]);
    const [toOther] = await otherDevice.waitForEvents<{ message: string }>("groupSystemNotice", 1);
    expect(toOther!.message).toBe("everyone");
    refused(await g("send_group_system_notification", { Content: "" }), 10004);
  });
});

describe("group_msg_recall", () => {
  it("answers RetCode and MsgKey per message: 0 recalled, 10030 not found; more than 10 is refused (10004)", async () => {
    const { app, groupId, g } = await aRestGroup();
    const sent = ok(await send(app, groupId, "oops"));
    const recall = ok(await g("group_msg_recall", { MsgSeqList: [{ MsgSeq: 1 }, { MsgSeq: 99 }], Reason: "mistake" }));
    const key = ((await history(app, groupId, { WithRecalledMsg: 1 })).RspMsgList[0]!.MsgKey as string);
    expect(key).toMatch(new RegExp(`^1_\\d+_${sent.MsgTime}$`));
    expect(recall.RecallRetList).toEqual([
      { MsgSeq: 1, RetCode: 0, MsgKey: key },
      { MsgSeq: 99, RetCode: 10030, MsgKey: "" },
    ]);
    expect((await history(app, groupId)).RspMsgList).toEqual([]);
    expect((await history(app, groupId, { WithRecalledMsg: 1 })).RspMsgList).toMatchObject([{ MsgSeq: 1, IsPlaceMsg: 2, MsgBody: [] }]);
    refused(await g("group_msg_recall", { MsgSeqList: Array.from({ length: 11 }, (_, i) => ({ MsgSeq: i + 1 })) }), 10004);
  });
});

describe("import_group_msg, group_msg_get_simple, delete_group_msg_by_sender and clear_group_msg", () => {
  it("imports messages with their SendTime (10004 for one in the future or before the group) and pages them newest first", async () => {
    const { app, ids } = await appWithUsers(2);
    const [owner, member] = ids as [string, string];
    const now = Math.floor(Date.now() / 1000);
    const groupId = aGroupId();
    const g = (command: string, body: Record<string, unknown>) => app.rest(`group_open_http_svc/${command}`, { GroupId: groupId, ...body });
    ok(await app.rest("group_open_http_svc/import_group", { Type: "Public", Name: "old", GroupId: groupId, Owner_Account: owner, CreateTime: now - 60, MemberList: [{ Member_Account: member }] }));
    const imported = ok(
      await g("import_group_msg", {
        RecentContactFlag: 0,
        MsgList: [
          { From_Account: owner, SendTime: now - 30, Random: 7, MsgBody: text("first") },
          { From_Account: member, SendTime: now - 20, MsgBody: text("second") },
          { From_Account: owner, SendTime: now + 3600, MsgBody: text("future") },
          { From_Account: owner, SendTime: now - 3600, MsgBody: text("before the group") },
          { From_Account: owner, SendTime: now - 10, MsgBody: text("third") },
        ],
      }),
    );
    expect(imported.ImportMsgResult).toEqual([
      { MsgSeq: 1, MsgTime: now - 30, Result: 0 },
      { MsgSeq: 2, MsgTime: now - 20, Result: 0 },
      { MsgSeq: 0, MsgTime: now + 3600, Result: 10004 },
      { MsgSeq: 0, MsgTime: now - 3600, Result: 10004 },
      { MsgSeq: 3, MsgTime: now - 10, Result: 0 },
    ]);
    const newest = await history(app, groupId, { ReqMsgNumber: 2 });
    expect(newest.IsFinished).toBe(0);
    expect(newest.RspMsgList.map((m) => m.MsgSeq)).toEqual([3, 2]);
    const older = await history(app, groupId, { ReqMsgNumber: 2, ReqMsgSeq: 1 });
    expect(older).toMatchObject({ IsFinished: 1, RspMsgList: [{ MsgSeq: 1, MsgRandom: 7, From_Account: owner, MsgPriority: 2, MsgKey: `1_7_${now - 30}` }] });
    refused(await g("group_msg_get_simple", { ReqMsgNumber: 21 }), 10004);
    refused(await g("import_group_msg", { MsgList: Array.from({ length: 21 }, () => ({ From_Account: owner, SendTime: now, MsgBody: text("x") })) }), 10004);
  });

  it("deletes one sender's messages, then clears history up to a MsgSeq", async () => {
    const { app, groupId, owner, members, g } = await aRestGroup();
    for (const [from, words] of [[owner, "a"], [members[0]!, "b"], [owner, "c"], [members[1]!, "d"]] as const) ok(await send(app, groupId, words, { From_Account: from }));
    ok(await g("delete_group_msg_by_sender", { Sender_Account: owner }));
    expect((await history(app, groupId)).RspMsgList.map((m) => m.MsgBody)).toEqual([text("d"), text("b")]);
    ok(await g("clear_group_msg", { MsgSeq: 2 }));
    expect((await history(app, groupId)).RspMsgList.map((m) => m.MsgSeq)).toEqual([4]);
    ok(await g("clear_group_msg", { MsgSeq: "" }));
    expect((await history(app, groupId)).RspMsgList).toEqual([]);
    expect(ok(await send(app, groupId, "fresh")).MsgSeq).toBe(5);
  });
});

describe("read receipts", () => {
  it("counts who has read a message from members' read points, and lists them page by page", async () => {
    const { app, groupId, owner, members, outsiders, g } = await aRestGroup("Public", { members: 3 });
    const [reader, slow, late] = members as [string, string, string];
    ok(await send(app, groupId, "please read", { From_Account: owner, NeedReadReceipt: 1 }));
    ok(await send(app, groupId, "no receipt", { From_Account: owner }));
    ok(await g("group_msg_receipt", { From_Account: reader, MsgSeqList: [{ MsgSeq: 1 }] }));
    const counts = ok(await g("get_group_msg_receipt", { MsgSeqList: [{ MsgSeq: 1 }, { MsgSeq: 2 }, { MsgSeq: 9 }] }));
    expect(counts.GroupMsgReceiptList).toEqual([
      { MsgSeq: 1, ReadNum: 1, UnreadNum: 2, Code: 0 },
      { MsgSeq: 2, ReadNum: 0, UnreadNum: 0, Code: 10062 },
      { MsgSeq: 9, ReadNum: 0, UnreadNum: 0, Code: 10062 },
    ]);
    const read = ok(await g("get_group_msg_receipt_detail", { MsgSeq: 1, Filter: 0, Cursor: "", Count: 10 }));
    expect(read).toMatchObject({ IsFinished: 1, MsgSeq: 1, ReadList: [{ Read_Account: reader }], UnreadList: [], Cursor: "" });
    const firstUnread = ok(await g("get_group_msg_receipt_detail", { MsgSeq: 1, Filter: 1, Count: 1 }));
    expect(firstUnread.IsFinished).toBe(0);
    const nextUnread = ok(await g("get_group_msg_receipt_detail", { MsgSeq: 1, Filter: 1, Count: 1, Cursor: firstUnread.Cursor }));
    expect(nextUnread.IsFinished).toBe(1);
    const unread = [...(firstUnread.UnreadList as { Unread_Account: string }[]), ...(nextUnread.UnreadList as { Unread_Account: string }[])].map((u) => u.Unread_Account);
    expect(unread).toEqual([slow, late].sort());

    refused(await g("group_msg_receipt", { From_Account: outsiders[0], MsgSeqList: [{ MsgSeq: 1 }] }), 10007);
    refused(await g("get_group_msg_receipt_detail", { MsgSeq: 2 }), 10062);
    refused(await g("get_group_msg_receipt_detail", { MsgSeq: 1, Count: 201 }), 10004);
  });
});

describe("openim/modify_group_msg", () => {
  it("replaces a group message's body and CloudCustomData; a missing one is 10030", async () => {
    const { app, groupId } = await aRestGroup();
    ok(await send(app, groupId, "draft"));
    ok(await app.rest("openim/modify_group_msg", { GroupId: groupId, MsgSeq: 1, MsgBody: text("final"), CloudCustomData: "edited" }));
    expect((await history(app, groupId)).RspMsgList).toMatchObject([{ MsgSeq: 1, MsgBody: text("final"), CloudCustomData: "edited" }]);
    refused(await app.rest("openim/modify_group_msg", { GroupId: groupId, MsgSeq: 9, MsgBody: text("x") }), 10030);
    refused(await app.rest("openim/modify_group_msg", { GroupId: "nosuch", MsgSeq: 1, MsgBody: text("x") }), 10010);
  });
});
