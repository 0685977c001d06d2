import { describe, expect, it } from "vitest";
import { aRandom, TestClient, text } from "./clients.ts";
import { anApp, appWithUsers, type TestApp } from "./helpers.ts";

const allowType = (app: TestApp, id: string, value: string) =>
  app.rest("profile/portrait_set", { From_Account: id, ProfileItem: [{ Tag: "Tag_Profile_IM_AllowType", Value: value }] });

async function relation(app: TestApp, from: string, to: string, type = "CheckResult_Type_Both"): Promise<string> {
  const answer = await app.rest("sns/friend_check", { From_Account: from, To_Account: [to], CheckType: type });
  return (answer.body.InfoItem as { Relation: string }[])[0]!.Relation;
}

const add = (app: TestApp, from: string, to: string[], extra: Record<string, unknown> = {}) =>
  app.rest("sns/friend_add", { From_Account: from, AddFriendItem: to.map((To_Account) => ({ To_Account, AddSource: "AddSource_Type_Test" })), ...extra });

const codes = (answer: { body: Record<string, unknown> }) => (answer.body.ResultItem as { ResultCode: number }[]).map((r) => r.ResultCode);

describe("adding friends follows the target's AllowType", () => {
  it("AllowAny adds at once, both ways", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2);
    await allowType(app, b!, "AllowType_Type_AllowAny");
    const answer = await add(app, a!, [b!]);
    expect(answer.body).toMatchObject({ ActionStatus: "OK", ErrorDisplay: "", ResultItem: [{ To_Account: b, ResultCode: 0, ResultInfo: "" }], Fail_Account: [] });
    expect(await relation(app, a!, b!)).toBe("CheckResult_Type_BothWay");
  });

  it("NeedConfirm (the default) creates a request the target sees and can accept", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2);
    const target = await TestClient.connect(app, b!);
    const answer = await add(app, a!, [b!]);
    expect(codes(answer)).toEqual([30539]);
    expect(await relation(app, a!, b!)).toBe("CheckResult_Type_NoRelation");
    await target.waitForEvents("friendApplicationListUpdated", 1);
    const requests = await target.call<{ incoming: { requester: string }[] }>("getFriendApplicationList");
    expect(requests.incoming.map((r) => r.requester)).toEqual([a]);
    await target.call("acceptFriendApplication", { userID: a });
    expect(await relation(app, a!, b!)).toBe("CheckResult_Type_BothWay");
    expect((await target.call<{ incoming: unknown[] }>("getFriendApplicationList")).incoming).toEqual([]);
  });

  it("a refused request leaves no relation", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2);
    await add(app, a!, [b!]);
    const target = await TestClient.connect(app, b!);
    await target.call("refuseFriendApplication", { userID: a });
    expect(await relation(app, a!, b!)).toBe("CheckResult_Type_NoRelation");
    expect((await target.request("acceptFriendApplication", { userID: a })).code).toBe(30001);
  });

  it("adding someone who already asked you accepts their request", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2);
    await add(app, a!, [b!]);
    expect(codes(await add(app, b!, [a!]))).toEqual([0]);
    expect(await relation(app, a!, b!)).toBe("CheckResult_Type_BothWay");
  });

  it("DenyAny refuses (30516), unless the admin forces it", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2);
    await allowType(app, b!, "AllowType_Type_DenyAny");
    expect(codes(await add(app, a!, [b!]))).toEqual([30516]);
    expect(codes(await add(app, a!, [b!], { ForceAddFlags: 1 }))).toEqual([0]);
    expect(await relation(app, a!, b!)).toBe("CheckResult_Type_BothWay");
  });

  it("Add_Type_Single adds one way only", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2);
    await allowType(app, b!, "AllowType_Type_AllowAny");
    await add(app, a!, [b!], { AddType: "Add_Type_Single" });
    expect(await relation(app, a!, b!)).toBe("CheckResult_Type_AWithB");
    expect(await relation(app, b!, a!)).toBe("CheckResult_Type_BWithA");
    expect(await relation(app, a!, b!, "CheckResult_Type_Single")).toBe("CheckResult_Type_AWithB");
    expect(await relation(app, b!, a!, "CheckResult_Type_Single")).toBe("CheckResult_Type_NoRelation");
  });

  it("reports each item of a batch and applies the good ones", async () => {
    const { app, ids: [a, b, c] } = await appWithUsers(3);
    await allowType(app, b!, "AllowType_Type_AllowAny");
    await allowType(app, c!, "AllowType_Type_AllowAny");
    await add(app, a!, [c!]);
    const answer = await add(app, a!, [b!, a!, "ghost", c!, b!]);
    expect(codes(answer)).toEqual([0, 30001, 30003, 30001, 30001]);
    expect(answer.body.Fail_Account).toEqual([a, "ghost", c, b]);
    expect(await relation(app, a!, b!)).toBe("CheckResult_Type_BothWay");
  });

  it("takes empty optional fields, as existing backends send them, as not given", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2);
    await allowType(app, b!, "AllowType_Type_AllowAny");
    const answer = await app.rest("sns/friend_add", {
      From_Account: a,
      AddFriendItem: [{ To_Account: b, Remark: "", GroupName: "", AddSource: "AddSource_Type_Web", AddWording: "" }],
      AddType: "",
    });
    expect(answer.body).toMatchObject({ ActionStatus: "OK", ErrorCode: 0, ResultItem: [{ To_Account: b, ResultCode: 0 }], Fail_Account: [] });
    expect(await relation(app, a!, b!)).toBe("CheckResult_Type_BothWay");
    const tags = await app.rest("sns/friend_get_list", { From_Account: a, To_Account: [b], TagList: ["Tag_SNS_IM_Group", "Tag_SNS_IM_Remark"] });
    expect((tags.body.InfoItem as { SnsProfileItem: unknown[] }[])[0]!.SnsProfileItem).toEqual([
      { Tag: "Tag_SNS_IM_Group", Value: [] },
      { Tag: "Tag_SNS_IM_Remark", Value: "" },
    ]);
  });

  it("refuses a From_Account that does not exist (30003) and bad fields (30001)", async () => {
    const { app, ids: [a] } = await appWithUsers(1);
    expect((await add(app, "ghost", [a!])).body.ErrorCode).toBe(30003);
    const bad = await app.rest("sns/friend_add", { From_Account: a, AddFriendItem: [{ To_Account: "x", AddSource: "Wrong" }] });
    expect(bad.body).toMatchObject({ ErrorCode: 30001, ErrorInfo: expect.stringMatching(/^AddFriendItem\[0\]\.AddSource: /), ErrorDisplay: "" });
  });
});

describe("friend_check", () => {
  it("reports BothWay, AWithB, BWithA and NoRelation in one call", async () => {
    const { app, ids: [a, b, c, d, e] } = await appWithUsers(5);
    await app.rest("sns/friend_import", { From_Account: a, AddFriendItem: [{ To_Account: b }, { To_Account: c }] });
    await app.rest("sns/friend_import", { From_Account: b, AddFriendItem: [{ To_Account: a }] });
    await app.rest("sns/friend_import", { From_Account: d, AddFriendItem: [{ To_Account: a }] });
    const answer = await app.rest("sns/friend_check", { From_Account: a, To_Account: [b, c, d, e], CheckType: "CheckResult_Type_Both" });
    expect(answer.body.InfoItem).toEqual([
      { To_Account: b, Relation: "CheckResult_Type_BothWay", ResultCode: 0, ResultInfo: "" },
      { To_Account: c, Relation: "CheckResult_Type_AWithB", ResultCode: 0, ResultInfo: "" },
      { To_Account: d, Relation: "CheckResult_Type_BWithA", ResultCode: 0, ResultInfo: "" },
      { To_Account: e, Relation: "CheckResult_Type_NoRelation", ResultCode: 0, ResultInfo: "" },
    ]);
  });
});

describe("deleting friends", () => {
  it("Delete_Type_Single removes one direction, Delete_Type_Both both", async () => {
    const { app, ids: [a, b, c] } = await appWithUsers(3);
    for (const [x, y] of [[a, b], [b, a], [a, c], [c, a]]) await app.rest("sns/friend_import", { From_Account: x, AddFriendItem: [{ To_Account: y }] });
    await app.rest("sns/friend_delete", { From_Account: a, To_Account: [b], DeleteType: "Delete_Type_Single" });
    expect(await relation(app, a!, b!)).toBe("CheckResult_Type_BWithA");
    const both = await app.rest("sns/friend_delete", { From_Account: a, To_Account: [c, "ghost"], DeleteType: "Delete_Type_Both" });
    expect(codes(both)).toEqual([0, 30001]);
    expect(await relation(app, a!, c!)).toBe("CheckResult_Type_NoRelation");
  });

  it("friend_delete_all empties the list", async () => {
    const { app, ids: [a, b, c] } = await appWithUsers(3);
    await app.rest("sns/friend_import", { From_Account: a, AddFriendItem: [{ To_Account: b }, { To_Account: c }] });
    await app.rest("sns/friend_delete_all", { From_Account: a, DeleteType: "Delete_Type_Single" });
    expect((await app.rest("sns/friend_get", { From_Account: a, StartIndex: 0 })).body).toMatchObject({ FriendNum: 0, UserDataItem: [], CompleteFlag: 1 });
  });
});

describe("reading and updating friends", () => {
  it("friend_get pages through 150 friends with the standard tags", async () => {
    const { app, ids } = await appWithUsers(151);
    const [owner, ...others] = ids as [string, ...string[]];
    for (let i = 0; i < others.length; i += 100) {
      await app.rest("sns/friend_import", { From_Account: owner, AddFriendItem: others.slice(i, i + 100).map((To_Account, j) => ({ To_Account, AddTime: 1_700_000_000 + i + j })) });
    }
    const first = await app.rest("sns/friend_get", { From_Account: owner, StartIndex: 0 });
    expect(first.body).toMatchObject({ FriendNum: 150, CompleteFlag: 0, NextStartIndex: 100 });
    const second = await app.rest("sns/friend_get", { From_Account: owner, StartIndex: 100 });
    expect(second.body).toMatchObject({ FriendNum: 150, CompleteFlag: 1 });
    const all = [...(first.body.UserDataItem as { To_Account: string }[]), ...(second.body.UserDataItem as { To_Account: string }[])];
    expect(all.map((f) => f.To_Account)).toEqual(others);
    expect((first.body.UserDataItem as { ValueItem: { Tag: string }[] }[])[0]!.ValueItem.map((v) => v.Tag)).toEqual([
      "Tag_SNS_IM_Group",
      "Tag_SNS_IM_Remark",
      "Tag_SNS_IM_AddSource",
      "Tag_SNS_IM_AddWording",
      "Tag_SNS_IM_AddTime",
    ]);
  });

  it("friend_update sets remark, lists and declared custom tags; friend_get_list reads them with profile tags", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2, { friendCustomTags: ["Tag_SNS_Custom_Level"] });
    await app.rest("sns/friend_import", { From_Account: a, AddFriendItem: [{ To_Account: b }] });
    await app.rest("profile/portrait_set", { From_Account: b, ProfileItem: [{ Tag: "Tag_Profile_IM_Nick", Value: "Bee" }] });
    const update = await app.rest("sns/friend_update", {
      From_Account: a,
      UpdateItem: [
        { To_Account: b, SnsItem: [{ Tag: "Tag_SNS_IM_Remark", Value: "bestie" }, { Tag: "Tag_SNS_IM_Group", Value: ["Close"] }, { Tag: "Tag_SNS_Custom_Level", Value: 3 }] },
        { To_Account: "stranger", SnsItem: [{ Tag: "Tag_SNS_IM_Remark", Value: "?" }] },
      ],
    });
    expect(codes(update)).toEqual([0, 30001]);
    const read = await app.rest("sns/friend_get_list", { From_Account: a, To_Account: [b], TagList: ["Tag_SNS_IM_Remark", "Tag_SNS_IM_Group", "Tag_SNS_Custom_Level", "Tag_Profile_IM_Nick"] });
    expect((read.body.InfoItem as { SnsProfileItem: unknown[] }[])[0]!.SnsProfileItem).toEqual([
      { Tag: "Tag_SNS_IM_Group", Value: ["Close"] },
      { Tag: "Tag_SNS_IM_Remark", Value: "bestie" },
      { Tag: "Tag_SNS_Custom_Level", Value: 3 },
      { Tag: "Tag_Profile_IM_Nick", Value: "Bee" },
    ]);
    const undeclared = await app.rest("sns/friend_update", { From_Account: a, UpdateItem: [{ To_Account: b, SnsItem: [{ Tag: "Tag_SNS_Custom_Other", Value: 1 }] }] });
    expect(codes(undeclared)).toEqual([30001]);
  });
});

describe("friend lists", () => {
  it("creates, fills, reads and deletes lists", async () => {
    const { app, ids: [a, b, c] } = await appWithUsers(3);
    await app.rest("sns/friend_import", { From_Account: a, AddFriendItem: [{ To_Account: b }, { To_Account: c }] });
    const created = await app.rest("sns/group_add", { From_Account: a, GroupName: ["Work", "Gym"], To_Account: [b, "ghost"] });
    expect(codes(created)).toEqual([0, 30001]);
    const read = await app.rest("sns/group_get", { From_Account: a, NeedFriend: "Need_Friend_Type_Yes" });
    // Lists come in name order.
    expect(read.body.ResultItem).toEqual([
      { GroupName: "Gym", FriendNumber: 1, To_Account: [b] },
      { GroupName: "Work", FriendNumber: 1, To_Account: [b] },
    ]);
    await app.rest("sns/group_delete", { From_Account: a, GroupName: ["Work"] });
    const after = await app.rest("sns/group_get", { From_Account: a, NeedFriend: "Need_Friend_Type_Yes" });
    expect(after.body.ResultItem).toEqual([{ GroupName: "Gym", FriendNumber: 1, To_Account: [b] }]);
    const tags = await app.rest("sns/friend_get_list", { From_Account: a, To_Account: [b], TagList: ["Tag_SNS_IM_Group"] });
    expect((tags.body.InfoItem as { SnsProfileItem: unknown[] }[])[0]!.SnsProfileItem).toEqual([{ Tag: "Tag_SNS_IM_Group", Value: ["Gym"] }]);
  });

  it("allows 32 lists and refuses the 33rd (30011)", async () => {
    const { app, ids: [a] } = await appWithUsers(1);
    const names = Array.from({ length: 32 }, (_, i) => `L${i}`);
    expect((await app.rest("sns/group_add", { From_Account: a, GroupName: names })).body.ErrorCode).toBe(0);
    expect((await app.rest("sns/group_add", { From_Account: a, GroupName: ["one too many"] })).body.ErrorCode).toBe(30011);
  });
});

describe("limits", () => {
  it("allows 3,000 friends and refuses the next (30010)", async () => {
    const { app, ids } = await appWithUsers(3002);
    const [owner, ...others] = ids as [string, ...string[]];
    for (let i = 0; i < 3000; i += 100) {
      const answer = await app.rest("sns/friend_import", { From_Account: owner, AddFriendItem: others.slice(i, i + 100).map((To_Account) => ({ To_Account })) });
      expect(answer.body.Fail_Account).toEqual([]);
    }
    expect((await app.rest("sns/friend_get", { From_Account: owner, StartIndex: 0 })).body.FriendNum).toBe(3000);
    expect(codes(await add(app, owner, [others[3000]!], { ForceAddFlags: 1 }))).toEqual([30010]);
  });

  it("allows 1,000 blocked accounts and refuses the next", async () => {
    const { app, ids } = await appWithUsers(1002);
    const [owner, ...others] = ids as [string, ...string[]];
    for (let i = 0; i < 1000; i += 500) {
      const answer = await app.rest("sns/black_list_add", { From_Account: owner, To_Account: others.slice(i, i + 500) });
      expect(answer.body.Fail_Account).toEqual([]);
    }
    expect(codes(await app.rest("sns/black_list_add", { From_Account: owner, To_Account: [others[1000]] }))).toEqual([31704]);
  });
});

describe("blocklist", () => {
  it("adds, lists, checks and removes, both directions", async () => {
    const { app, ids: [a, b, c] } = await appWithUsers(3);
    const added = await app.rest("sns/black_list_add", { From_Account: a, To_Account: [b, a, "ghost"] });
    expect(codes(added)).toEqual([0, 30001, 30003]);
    expect(codes(await app.rest("sns/black_list_add", { From_Account: a, To_Account: [b] }))).toEqual([30001]);
    await app.rest("sns/black_list_add", { From_Account: c, To_Account: [a] });
    const listed = await app.rest("sns/black_list_get", { From_Account: a, StartIndex: 0, MaxLimited: 10, LastSequence: 0 });
    expect(listed.body.BlackListItem).toEqual([{ To_Account: b, AddBlackTimeStamp: expect.any(Number) }]);
    const check = await app.rest("sns/black_list_check", { From_Account: a, To_Account: [b, c], CheckType: "BlackCheckResult_Type_Both" });
    expect((check.body.BlackListCheckItem as { Relation: string }[]).map((r) => r.Relation)).toEqual(["BlackCheckResult_Type_AWithB", "BlackCheckResult_Type_BWithA"]);
    expect(codes(await app.rest("sns/black_list_delete", { From_Account: a, To_Account: [b, c] }))).toEqual([0, 30001]);
    expect((await app.rest("sns/black_list_get", { From_Account: a, StartIndex: 0, MaxLimited: 10 })).body.BlackListItem).toEqual([]);
  });

  it("ends the friendship, as Tencent does", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2);
    await allowType(app, b!, "AllowType_Type_AllowAny");
    await add(app, a!, [b!]);
    await app.rest("sns/black_list_add", { From_Account: b, To_Account: [a] });
    expect(await relation(app, a!, b!)).toBe("CheckResult_Type_NoRelation");
    expect(codes(await add(app, a!, [b!]))).toEqual([30525]);
    expect(codes(await add(app, b!, [a!]))).toEqual([30515]);
  });

  it("stops messages from the blocked user (20007), from REST and clients, and stores none", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2);
    const receiver = await TestClient.connect(app, b!);
    await receiver.call("addToBlacklist", { userIDList: [a] });
    const viaRest = await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgBody: text("let me in") });
    expect(viaRest.body.ErrorCode).toBe(20007);
    const sender = await TestClient.connect(app, a!);
    expect((await sender.request("sendMessage", { to: b, random: aRandom(), body: text("please") })).code).toBe(20007);
    expect((await receiver.call<{ events: unknown[] }>("sync", { after: 0 })).events).toEqual([]);
    expect((await sender.call<{ messages: unknown[] }>("getMessageList", { peer: b })).messages).toEqual([]);
    await receiver.call("removeFromBlacklist", { userIDList: [a] });
    expect((await sender.request("sendMessage", { to: b, random: aRandom(), body: text("thanks") })).code).toBe(0);
  });
});

describe("friendship required for one-to-one messages", () => {
  it("answers 20009, 20010 or 20011 by which side is missing", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2, { requireFriendship: true });
    const send = async () => (await app.rest("openim/sendmsg", { From_Account: a, To_Account: b, MsgRandom: aRandom(), MsgBody: text("hi") })).body.ErrorCode;
    expect(await send()).toBe(20009);
    await app.rest("sns/friend_import", { From_Account: a, AddFriendItem: [{ To_Account: b }] });
    expect(await send()).toBe(20010);
    await app.rest("sns/friend_delete", { From_Account: a, To_Account: [b], DeleteType: "Delete_Type_Single" });
    await app.rest("sns/friend_import", { From_Account: b, AddFriendItem: [{ To_Account: a }] });
    expect(await send()).toBe(20011);
    await app.rest("sns/friend_import", { From_Account: a, AddFriendItem: [{ To_Account: b }] });
    expect(await send()).toBe(0);
  });
});

describe("clients", () => {
  it("add friends, sort them into lists and see change events on every device", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2);
    await allowType(app, b!, "AllowType_Type_AllowAny");
    const [a1, a2] = [await TestClient.connect(app, a!, { device: "a1" }), await TestClient.connect(app, a!, { device: "a2" })];
    const bClient = await TestClient.connect(app, b!);
    expect(await a1.call("addFriend", { to: b, wording: "hi", listName: "Pals" })).toEqual({ userId: b, code: 0, info: "" });
    await a2.waitForEvents("friendListUpdated", 1);
    await bClient.waitForEvents("friendListUpdated", 1);
    const list = await a2.call<{ friends: { friend: string; lists: string[] }[]; total: number }>("getFriendList");
    expect(list).toMatchObject({ total: 1, friends: [{ friend: b, lists: ["Pals"] }] });
    expect(await a1.call("getFriendLists")).toEqual({ lists: [{ name: "Pals", members: [b] }] });
    expect(await a1.call("checkFriend", { userIDList: [b] })).toEqual({ results: [{ userId: b, relation: "CheckResult_Type_BothWay" }] });
    await a1.call("addToBlacklist", { userIDList: [b] });
    await a2.waitForEvents("blacklistUpdated", 1);
    expect(await a2.call("getBlacklist")).toMatchObject({ total: 1, blocked: [{ blocked: b }] });
    expect(await a1.call("checkFriend", { userIDList: [b] })).toEqual({ results: [{ userId: b, relation: "CheckResult_Type_NoRelation" }] });
  });

  it("act only for the connected user", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2);
    const client = await TestClient.connect(app, a!);
    // There is no field naming another user as the actor: the op applies to the connection's user.
    expect((await client.request("addToBlacklist", { userIDList: [b], From_Account: b })).code).toBe(0);
    const check = await app.rest("sns/black_list_check", { From_Account: a, To_Account: [b], CheckType: "BlackCheckResult_Type_Single" });
    expect((check.body.BlackListCheckItem as { Relation: string }[])[0]!.Relation).toBe("BlackCheckResult_Type_AWithB");
  });
});

describe("isolation and account deletion", () => {
  it("keeps one app's relations out of another app's sight", async () => {
    const { app, ids: [a, b] } = await appWithUsers(2);
    await app.rest("sns/friend_import", { From_Account: a, AddFriendItem: [{ To_Account: b }] });
    const other = await anApp();
    await other.rest("im_open_login_svc/multiaccount_import", { Accounts: [a, b] });
    expect(await relation(other, a!, b!)).toBe("CheckResult_Type_NoRelation");
    expect(await relation(app, a!, b!)).toBe("CheckResult_Type_AWithB");
  });

  it("removes the deleted account's rows on both sides of every relationship", async () => {
    const { app, ids: [a, b, c] } = await appWithUsers(3);
    await app.rest("sns/friend_import", { From_Account: a, AddFriendItem: [{ To_Account: b }] });
    await app.rest("sns/friend_import", { From_Account: b, AddFriendItem: [{ To_Account: a }] });
    await app.rest("sns/black_list_add", { From_Account: c, To_Account: [b] });
    await add(app, b!, [c!]);
    await app.rest("im_open_login_svc/account_delete", { DeleteItem: [{ UserID: b }] });
    await app.rest("im_open_login_svc/account_import", { UserID: b });
    expect(await relation(app, a!, b!)).toBe("CheckResult_Type_NoRelation");
    expect((await app.rest("sns/friend_get", { From_Account: a, StartIndex: 0 })).body.FriendNum).toBe(0);
    const blocked = await app.rest("sns/black_list_get", { From_Account: c, StartIndex: 0, MaxLimited: 10 });
    expect(blocked.body.BlackListItem).toEqual([]);
    const client = await TestClient.connect(app, c!);
    expect((await client.call<{ incoming: unknown[] }>("getFriendApplicationList")).incoming).toEqual([]);
  });
});
