import { describe, expect, it } from "vitest";
import { GroupProfile } from "../../src/domain/group.ts";
import {
  afterGroupAttrChangedFields,
  afterGroupInfoChangedFields,
  afterMemberExitFields,
  afterNewMemberJoinFields,
  afterSendMsgFields,
  becameFull,
  beforeCreateGroupFields,
  beforeInviteJoinFields,
  readGroupBeforeAnswer,
  readInviteAnswer,
  sendMsgFields,
} from "../../src/domain/groupCallbacks.ts";

const profile = GroupProfile.parse({ groupId: "@TGS#1abc", type: "Public", name: "Hikers", ownerAccount: "alice", createTime: 1, maxMemberNum: 3, appDefinedData: [] });

describe("group callback bodies", () => {
  it("name the fields as Tencent does", () => {
    expect(beforeCreateGroupFields({ operator: "alice", owner: "alice", type: "Public", name: "Hikers", ownerCreated: 2, members: ["bob"] })).toEqual({
      Operator_Account: "alice",
      Owner_Account: "alice",
      Type: "Public",
      Name: "Hikers",
      CreateGroupNum: 2,
      MemberList: [{ Member_Account: "bob" }],
    });
    expect(beforeInviteJoinFields(profile, "alice", ["bob", "carol"])).toEqual({
      GroupId: "@TGS#1abc",
      Type: "Public",
      Operator_Account: "alice",
      DestinationMembers: [{ Member_Account: "bob" }, { Member_Account: "carol" }],
    });
    expect(afterNewMemberJoinFields(profile, "Apply", "bob", ["bob"])).toMatchObject({ JoinType: "Apply", NewMemberList: [{ Member_Account: "bob" }] });
    expect(afterMemberExitFields(profile, "Kicked", "alice", ["bob"])).toMatchObject({ ExitType: "Kicked", Operator_Account: "alice", ExitMemberList: [{ Member_Account: "bob" }] });
  });

  it("report only the profile fields a change touched, and nothing for others", () => {
    const next = { ...profile, notification: "Sunday 9am" };
    expect(afterGroupInfoChangedFields(next, "alice", { notification: true })).toEqual({ GroupId: "@TGS#1abc", Type: "Public", Operator_Account: "alice", Notification: "Sunday 9am" });
    expect(afterGroupInfoChangedFields(next, "alice", { appDefinedData: [{ key: "k", value: "v" }] })).toMatchObject({ UserDefinedDataList: [{ Key: "k", Value: "v" }] });
    expect(afterGroupInfoChangedFields(next, "alice", {})).toBeNull();
  });

  it("tell what an attribute write did", () => {
    expect(afterGroupAttrChangedFields(profile, "admin", "modify", [{ key: "seat", value: "1" }])).toMatchObject({ OptionType: "modify", GroupAttr: [{ key: "seat", value: "1" }] });
  });

  it("carry a message as stored, with its mentions", () => {
    const fields = afterSendMsgFields(profile, { groupId: "@TGS#1abc", seq: 7, from: "bob", random: 9, time: 100, body: [], priority: "Normal", isRevoked: false, isModified: false, atUsers: ["alice"] }, false, "bob");
    expect(fields).toMatchObject({ From_Account: "bob", Operator_Account: "bob", Random: 9, MsgSeq: 7, MsgTime: 100, OnlineOnlyFlag: 0, GroupAtInfo: [{ GroupAtAllFlag: 0, GroupAt_Account: "alice" }] });
  });

  it("name the admin of a REST send as its Operator_Account, the sender as its From_Account", () => {
    const draft = { from: "bob", random: 9, body: [{ MsgType: "TIMTextElem" as const, MsgContent: { Text: "hi" } }], onlineOnly: true };
    expect(sendMsgFields(profile, draft, "administrator")).toEqual({
      GroupId: "@TGS#1abc",
      Type: "Public",
      From_Account: "bob",
      Operator_Account: "administrator",
      Random: 9,
      OnlineOnlyFlag: 1,
      MsgBody: draft.body,
    });
  });

  it("see a group become full only on the join that fills it", () => {
    expect(becameFull(3, 2, 3)).toBe(true);
    expect(becameFull(3, 3, 3)).toBe(false);
    expect(becameFull(3, 1, 2)).toBe(false);
    expect(becameFull(0, 100, 101)).toBe(false);
  });
});

describe("group before-callback answers", () => {
  it("allow with 0, refuse with 1 as 10016 or with the backend's own code in 10100–10200; anything else is a failure", () => {
    expect(readGroupBeforeAnswer({ ActionStatus: "OK", ErrorCode: 0 })).toEqual({ decision: { kind: "allow" } });
    expect(readGroupBeforeAnswer({ ActionStatus: "FAIL", ErrorCode: 1, ErrorInfo: "closed" })).toEqual({ decision: { kind: "refuse", code: 10016, info: "closed" } });
    expect(readGroupBeforeAnswer({ ErrorCode: 10150, ErrorInfo: "members only" })).toEqual({ decision: { kind: "refuse", code: 10150, info: "members only" } });
    expect(readGroupBeforeAnswer({ ErrorCode: 10100 })).toMatchObject({ decision: { kind: "refuse", code: 10100 } });
    expect(readGroupBeforeAnswer({ ErrorCode: 10200 })).toMatchObject({ decision: { kind: "refuse", code: 10200 } });
    for (const code of [2, 10099, 10201, 120001]) expect(readGroupBeforeAnswer({ ErrorCode: code })).toHaveProperty("failure");
    expect(readGroupBeforeAnswer("yes")).toHaveProperty("failure");
  });

  it("let an invitation through but for the invitees the backend refuses", () => {
    expect(readInviteAnswer({ ActionStatus: "OK", ErrorCode: 0, RefusedMembers_Account: ["carol"] })).toEqual({ decision: { kind: "allow", refused: ["carol"] } });
    expect(readInviteAnswer({ ActionStatus: "OK", ErrorCode: 0 })).toEqual({ decision: { kind: "allow", refused: [] } });
    expect(readInviteAnswer({ ErrorCode: 1 })).toMatchObject({ decision: { kind: "refuse", code: 10016 } });
    expect(readInviteAnswer({ ErrorCode: 10123, ErrorInfo: "invite-only" })).toEqual({ decision: { kind: "refuse", code: 10123, info: "invite-only" } });
    expect(readInviteAnswer({ ErrorCode: 0, RefusedMembers_Account: "carol" })).toHaveProperty("failure");
  });
});
