import { describe, expect, it } from "vitest";
import {
  AppDefinedData,
  AppMemberDefinedData,
  applyGroupAttributes,
  checkBatchSize,
  checkCustomGroupId,
  defaultGroupPolicy,
  generateGroupId,
  GroupErrorCode,
  GroupFaceUrl,
  GroupIntroduction,
  GroupMember,
  GroupName,
  GroupNotification,
  GroupPolicy,
  GroupProfile,
  groupDataLimits,
  groupIdTakenError,
  isWellFormedGroupId,
  memberDataLimits,
  memberLimitOf,
  mergeDefinedData,
  muteForever,
  NameCard,
} from "../../src/domain/group.ts";
import {
  admitGroupMessage,
  checkGroupsPerUser,
  checkInitialMembers,
  checkMessageAudience,
  checkRoomForMembers,
  maxMemberNumFor,
  muteUntilFor,
  refusalCode as codeOf,
} from "../../src/domain/groupRules.ts";

const allowed = 0;
const { invalidParameter, invalidGroupId, groupFull, tooManyGroups, tooManyMentions, tooManyAccounts, noPermission } = GroupErrorCode;
const bytes = (...values: number[]) => Uint8Array.from(values);
const tenBytes = bytes(0, 1, 2, 3, 4, 5, 6, 7, 8, 255);

describe("group ids", () => {
  it("are generated with the @TGS# prefix", () => {
    const id = generateGroupId("Public", tenBytes);
    expect(id).toMatch(/^@TGS#2[A-Z2-7]{10}$/);
    expect(id).toBe("@TGS#2ABCDEFGHI7");
  });

  it("of Community groups are generated with the @TGS#_ prefix", () => {
    expect(generateGroupId("Community", tenBytes)).toMatch(/^@TGS#_@TGS#c[A-Z2-7]{10}$/);
  });

  it("differ when the random bytes differ", () => {
    expect(generateGroupId("Private", tenBytes)).not.toBe(generateGroupId("Private", bytes(9, 1, 2, 3, 4, 5, 6, 7, 8, 255)));
  });

  it("are generated well-formed, and valid as custom ids where the type allows the prefix", () => {
    const community = generateGroupId("Community", tenBytes);
    expect(isWellFormedGroupId(community)).toBe(true);
    expect(codeOf(() => checkCustomGroupId("Community", community))).toBe(allowed);
  });

  it("may be chosen by the app: printable ASCII up to 48 bytes", () => {
    expect(codeOf(() => checkCustomGroupId("Public", "MyFirstGroup"))).toBe(allowed);
    expect(codeOf(() => checkCustomGroupId("Public", "a b~!".padEnd(48, "x")))).toBe(allowed);
    expect(codeOf(() => checkCustomGroupId("Public", "x".repeat(49)))).toBe(invalidGroupId);
    expect(codeOf(() => checkCustomGroupId("Public", "grüppe"))).toBe(invalidGroupId);
    expect(codeOf(() => checkCustomGroupId("Public", "tab\there"))).toBe(invalidGroupId);
    expect(codeOf(() => checkCustomGroupId("Public", ""))).toBe(invalidGroupId);
  });

  it("chosen by the app may not start with @TGS#, which marks generated ids", () => {
    expect(codeOf(() => checkCustomGroupId("Private", "@TGS#2ABCDEFGHI7"))).toBe(invalidGroupId);
    expect(codeOf(() => checkCustomGroupId("Public", "@TGS#_mine"))).toBe(invalidGroupId);
  });

  it("of Community groups must start with @TGS#_", () => {
    expect(codeOf(() => checkCustomGroupId("Community", "@TGS#_gamers"))).toBe(allowed);
    expect(codeOf(() => checkCustomGroupId("Community", "gamers"))).toBe(invalidGroupId);
    expect(codeOf(() => checkCustomGroupId("Community", "@TGS#_"))).toBe(invalidGroupId);
  });

  it("may not look like a topic id", () => {
    expect(codeOf(() => checkCustomGroupId("Community", "@TGS#_g@TOPIC#_t"))).toBe(invalidGroupId);
  });

  it("already used answer 10021, or 10025 when the requester already owns that group", () => {
    expect(groupIdTakenError("g1", "alice", "bob").code).toBe(GroupErrorCode.groupIdTaken);
    expect(groupIdTakenError("g1", "alice", undefined).code).toBe(GroupErrorCode.groupIdTaken);
    expect(groupIdTakenError("g1", undefined, undefined).code).toBe(GroupErrorCode.groupIdTaken);
    expect(groupIdTakenError("g1", "alice", "alice").code).toBe(GroupErrorCode.groupIdTakenByCaller);
  });

  it("that could not name a group are recognised before any lookup", () => {
    expect(isWellFormedGroupId("@TGS#2ABCDEFGHI7")).toBe(true);
    expect(isWellFormedGroupId("")).toBe(false);
    expect(isWellFormedGroupId(42)).toBe(false);
    expect(isWellFormedGroupId("x".repeat(49))).toBe(false);
  });
});

describe("group fields", () => {
  const fits = (schema: { safeParse(v: unknown): { success: boolean } }, value: unknown) => schema.safeParse(value).success;

  it("limit the name to 30 bytes, counted in UTF-8, and require one", () => {
    expect(fits(GroupName, "x".repeat(30))).toBe(true);
    expect(fits(GroupName, "x".repeat(31))).toBe(false);
    expect(fits(GroupName, "群".repeat(10))).toBe(true);
    expect(fits(GroupName, "群".repeat(11))).toBe(false);
    expect(fits(GroupName, "")).toBe(false);
  });

  it("limit the introduction to 240, the notification to 300, the face URL to 100 and a name card to 50 bytes", () => {
    for (const [schema, max] of [
      [GroupIntroduction, 240],
      [GroupNotification, 300],
      [GroupFaceUrl, 100],
      [NameCard, 50],
    ] as const) {
      expect(fits(schema, "x".repeat(max))).toBe(true);
      expect(fits(schema, "x".repeat(max + 1))).toBe(false);
    }
  });

  it("hold at most 10 group custom keys of 1–16 letters, digits or '_', values up to 512 bytes", () => {
    const item = (i: number, value = "v") => ({ key: `k_${i}`, value });
    expect(fits(AppDefinedData, Array.from({ length: 10 }, (_, i) => item(i)))).toBe(true);
    expect(fits(AppDefinedData, Array.from({ length: 11 }, (_, i) => item(i)))).toBe(false);
    expect(fits(AppDefinedData, [item(1, "x".repeat(512))])).toBe(true);
    expect(fits(AppDefinedData, [item(1, "x".repeat(513))])).toBe(false);
    expect(fits(AppDefinedData, [{ key: "x".repeat(17), value: "" }])).toBe(false);
    expect(fits(AppDefinedData, [{ key: "bad-key", value: "" }])).toBe(false);
    expect(fits(AppDefinedData, [item(1), item(1)])).toBe(false);
  });

  it("hold at most 5 member custom keys, values up to 64 bytes", () => {
    const item = (i: number, value = "v") => ({ key: `k${i}`, value });
    expect(fits(AppMemberDefinedData, Array.from({ length: 5 }, (_, i) => item(i)))).toBe(true);
    expect(fits(AppMemberDefinedData, Array.from({ length: 6 }, (_, i) => item(i)))).toBe(false);
    expect(fits(AppMemberDefinedData, [item(1, "x".repeat(65))])).toBe(false);
  });

  it("merge custom data changes: an empty value deletes its key", () => {
    const current = [
      { key: "level", value: "1" },
      { key: "topic", value: "cats" },
    ];
    const merged = mergeDefinedData(current, [{ key: "topic", value: "" }, { key: "level", value: "2" }, { key: "new", value: "x" }], groupDataLimits);
    expect(merged).toEqual([
      { key: "level", value: "2" },
      { key: "new", value: "x" },
    ]);
  });

  it("refuse a change that would leave too many custom keys, counting what is already there", () => {
    const current = Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: "v" }));
    expect(codeOf(() => mergeDefinedData(current, [{ key: "k0", value: "w" }], memberDataLimits))).toBe(allowed);
    expect(codeOf(() => mergeDefinedData(current, [{ key: "k5", value: "w" }], memberDataLimits))).toBe(invalidParameter);
    expect(codeOf(() => mergeDefinedData(current, [{ key: "k0", value: "" }, { key: "k5", value: "w" }], memberDataLimits))).toBe(allowed);
    expect(codeOf(() => mergeDefinedData([], [{ key: "k", value: "x".repeat(65) }], memberDataLimits))).toBe(invalidParameter);
  });

  it("give a stored profile and member their defaults", () => {
    const profile = GroupProfile.parse({ groupId: "g1", type: "Public", name: "Cats", createTime: 1, maxMemberNum: 6000 });
    expect(profile).toMatchObject({ introduction: "", muteAllMember: false, appDefinedData: [], infoSeq: 0 });
    expect(profile.applyJoinOption).toBeUndefined();
    const member = GroupMember.parse({ userId: "alice", role: "Member", joinTime: 1 });
    expect(member).toMatchObject({ msgFlag: "AcceptAndNotify", muteUntil: 0, nameCard: "" });
  });

  it("know only Tencent's group types by their wire names", () => {
    expect(GroupProfile.safeParse({ groupId: "g", type: "Work", name: "x", createTime: 1, maxMemberNum: 1 }).success).toBe(false);
  });
});

describe("group attributes", () => {
  const limits = defaultGroupPolicy.attributes;

  it("hold at most 16 keys", () => {
    const sixteen = Array.from({ length: 16 }, (_, i) => ({ key: `k${i}`, value: "v" }));
    expect(applyGroupAttributes([], "set", sixteen, limits)).toHaveLength(16);
    expect(codeOf(() => applyGroupAttributes(sixteen, "modify", [{ key: "k16", value: "v" }], limits))).toBe(invalidParameter);
  });

  it("hold values of at most 4,000 bytes and 16,000 bytes in all", () => {
    expect(codeOf(() => applyGroupAttributes([], "set", [{ key: "a", value: "x".repeat(4_001) }], limits))).toBe(invalidParameter);
    const big = (key: string) => ({ key, value: "x".repeat(3_990) });
    expect(codeOf(() => applyGroupAttributes([], "set", [big("a"), big("b"), big("c"), big("d")], limits))).toBe(allowed);
    expect(codeOf(() => applyGroupAttributes([big("a"), big("b"), big("c"), big("d")], "modify", [big("e")], limits))).toBe(invalidParameter);
  });

  it("are replaced by set, merged by modify and removed by delete", () => {
    const current = [
      { key: "a", value: "1" },
      { key: "b", value: "2" },
    ];
    expect(applyGroupAttributes(current, "set", [{ key: "c", value: "3" }], limits)).toEqual([{ key: "c", value: "3" }]);
    expect(applyGroupAttributes(current, "modify", [{ key: "b", value: "9" }], limits)).toEqual([
      { key: "a", value: "1" },
      { key: "b", value: "9" },
    ]);
    expect(applyGroupAttributes(current, "delete", ["a"], limits)).toEqual([{ key: "b", value: "2" }]);
  });
});

describe("per-app limits", () => {
  it("default to Tencent's: 6,000 members for Work, Public and Meeting, 100,000 for Community", () => {
    expect(memberLimitOf("Private", defaultGroupPolicy)).toBe(6_000);
    expect(memberLimitOf("Public", defaultGroupPolicy)).toBe(6_000);
    expect(memberLimitOf("ChatRoom", defaultGroupPolicy)).toBe(6_000);
    expect(memberLimitOf("Community", defaultGroupPolicy)).toBe(100_000);
  });

  it("default to 500 groups per user, 40 messages a second, 30 @mentions and 50 targeted members", () => {
    expect(defaultGroupPolicy).toMatchObject({ maxGroupsPerUser: 500, messagesPerSecond: 40, maxMentionsPerMessage: 30, maxTargetedRecipients: 50 });
  });

  it("may be raised per app, keeping the other defaults", () => {
    const policy = GroupPolicy.parse({ maxMembers: { Public: 2_000 }, maxGroupsPerUser: 3_000 });
    expect(memberLimitOf("Public", policy)).toBe(2_000);
    expect(memberLimitOf("Community", policy)).toBe(100_000);
    expect(policy.maxGroupsPerUser).toBe(3_000);
    expect(policy.attributes.maxKeys).toBe(16);
  });

  it("give a new group the app's member limit unless it asks for less, and refuse more", () => {
    expect(maxMemberNumFor("Public", undefined, defaultGroupPolicy)).toBe(6_000);
    expect(maxMemberNumFor("Public", 0, defaultGroupPolicy)).toBe(6_000);
    expect(maxMemberNumFor("Public", 500, defaultGroupPolicy)).toBe(500);
    expect(codeOf(() => maxMemberNumFor("Public", 6_001, defaultGroupPolicy))).toBe(invalidParameter);
    expect(codeOf(() => maxMemberNumFor("Community", 100_000, defaultGroupPolicy))).toBe(allowed);
  });

  it("refuse members beyond a group's limit with 10014", () => {
    expect(codeOf(() => checkRoomForMembers(199, 1, 200))).toBe(allowed);
    expect(codeOf(() => checkRoomForMembers(199, 2, 200))).toBe(groupFull);
    expect(codeOf(() => checkRoomForMembers(1_000_000, 1, 0))).toBe(allowed);
  });

  it("refuse a user's 501st group with 10037", () => {
    expect(codeOf(() => checkGroupsPerUser("Public", 499, defaultGroupPolicy))).toBe(allowed);
    expect(codeOf(() => checkGroupsPerUser("Public", 500, defaultGroupPolicy))).toBe(tooManyGroups);
  });

  it("refuse more than 30 @mentions with 10053 and more than 50 targeted members", () => {
    expect(codeOf(() => checkMessageAudience({ mentions: 30, targeted: 50 }, defaultGroupPolicy))).toBe(allowed);
    expect(codeOf(() => checkMessageAudience({ mentions: 31, targeted: 0 }, defaultGroupPolicy))).toBe(tooManyMentions);
    expect(codeOf(() => checkMessageAudience({ mentions: 0, targeted: 51 }, defaultGroupPolicy))).toBe(invalidParameter);
  });

  it("refuse requests with too many items with 10005", () => {
    expect(codeOf(() => checkBatchSize("members", 100, 100))).toBe(allowed);
    expect(codeOf(() => checkBatchSize("members", 101, 100))).toBe(tooManyAccounts);
  });
});

describe("creating a group with members", () => {
  const room = { withOwner: true, maxMemberNum: 6_000 };

  it("accepts up to 100 initial members, some of them admins", () => {
    expect(codeOf(() => checkInitialMembers("Public", Array.from({ length: 100 }, () => ({ role: "Admin" })), room))).toBe(allowed);
    expect(codeOf(() => checkInitialMembers("Public", Array.from({ length: 101 }, () => ({})), room))).toBe(tooManyAccounts);
  });

  it("gives initial members no role but Admin, and admins only where the type has them", () => {
    expect(codeOf(() => checkInitialMembers("Public", [{ role: "Owner" }], room))).toBe(invalidParameter);
    expect(codeOf(() => checkInitialMembers("Private", [{ role: "Admin" }], room))).toBe(invalidParameter);
    expect(codeOf(() => checkInitialMembers("Private", [{ role: "" }, {}], room))).toBe(allowed);
  });

  it("counts the owner toward the group's limit", () => {
    expect(codeOf(() => checkInitialMembers("Public", [{}, {}], { withOwner: true, maxMemberNum: 2 }))).toBe(groupFull);
    expect(codeOf(() => checkInitialMembers("Public", [{}, {}], { withOwner: false, maxMemberNum: 2 }))).toBe(allowed);
  });

  it("of a live room names nobody", () => {
    expect(codeOf(() => checkInitialMembers("AVChatRoom", [{}], room))).toBe(noPermission);
  });
});

describe("message rate per group", () => {
  const policy = { messagesPerSecond: 40 };

  it("admits 40 messages in a second and drops the 41st with MsgFreqCtrl", () => {
    let bucket;
    for (let i = 0; i < 40; i++) {
      const admission = admitGroupMessage(bucket, policy, 1_000);
      expect(admission).toMatchObject({ admitted: true, dropReason: "" });
      bucket = admission.bucket;
    }
    const dropped = admitGroupMessage(bucket, policy, 1_000);
    expect(dropped).toMatchObject({ admitted: false, dropReason: "MsgFreqCtrl" });
  });

  it("admits again once time has refilled the bucket", () => {
    let bucket;
    for (let i = 0; i < 41; i++) bucket = admitGroupMessage(bucket, policy, 1_000).bucket;
    expect(admitGroupMessage(bucket, policy, 1_000).admitted).toBe(false);
    expect(admitGroupMessage(bucket, policy, 1_025).admitted).toBe(true);
  });
});

describe("mute times", () => {
  it("turn MuteTime seconds into the second the mute ends; 0 unmutes, 4294967295 is forever", () => {
    expect(muteUntilFor(60, 1_000)).toBe(1_060);
    expect(muteUntilFor(0, 1_000)).toBe(0);
    expect(muteUntilFor(0xffffffff, 1_000)).toBe(muteForever);
    expect(muteUntilFor(0xfffffff0, 1_000)).toBe(muteForever);
  });
});

describe("refusalCode", () => {
  it("passes on errors that are not ImErrors", () => {
    expect(() =>
      codeOf(() => {
        throw new TypeError("bug");
      }),
    ).toThrow(TypeError);
  });
});
