import { describe, expect, it } from "vitest";
import { GroupErrorCode } from "../../src/domain/group.ts";
import { applyGroupCounters, checkAttributeVersion, decideCountersAllowed, deleteGroupCounters } from "../../src/domain/groupData.ts";
import { checkCustomTopicId, decideTopicManagement, decideTopicRead, decideTopicsEnabled, generateTopicId } from "../../src/domain/groupTopics.ts";
import { refusalCode as codeOf } from "../../src/domain/groupRules.ts";

const { invalidParameter, noPermission, attributeWriteConflict, topicsNotEnabled } = GroupErrorCode;

describe("group counters", () => {
  it("Set stores, Increase and Decrease start from 0 for a new key, and only changed keys are answered", () => {
    const set = applyGroupCounters({ a: 5 }, "Set", [{ key: "b", value: 2 }]);
    expect(set).toEqual({ counters: { a: 5, b: 2 }, changed: { b: 2 } });
    expect(applyGroupCounters(set.counters, "Increase", [{ key: "a", value: 3 }, { key: "c", value: 1 }]).changed).toEqual({ a: 8, c: 1 });
    expect(applyGroupCounters(set.counters, "Decrease", [{ key: "new", value: 4 }]).changed).toEqual({ new: -4 });
  });

  it("hold at most 20 keys of 1–128 bytes and values JSON carries exactly", () => {
    const twenty = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]));
    expect(codeOf(() => applyGroupCounters(twenty, "Set", [{ key: "k0", value: 1 }]))).toBe(0);
    expect(codeOf(() => applyGroupCounters(twenty, "Set", [{ key: "k20", value: 1 }]))).toBe(invalidParameter);
    expect(codeOf(() => applyGroupCounters({}, "Set", [{ key: "é".repeat(65), value: 1 }]))).toBe(invalidParameter);
    expect(codeOf(() => applyGroupCounters({}, "Set", [{ key: "", value: 1 }]))).toBe(invalidParameter);
    expect(codeOf(() => applyGroupCounters({ a: Number.MAX_SAFE_INTEGER }, "Increase", [{ key: "a", value: 1 }]))).toBe(invalidParameter);
    expect(codeOf(() => applyGroupCounters({}, "Set", [{ key: "a", value: 0.5 }]))).toBe(invalidParameter);
  });

  it("delete the keys named, or all; unknown keys are not reported", () => {
    expect(deleteGroupCounters({ a: 1, b: 2 }, ["a", "x"])).toEqual({ counters: { b: 2 }, deleted: ["a"] });
    expect(deleteGroupCounters({ a: 1, b: 2 })).toEqual({ counters: {}, deleted: ["a", "b"] });
  });

  it("are absent from a Community with topics only", () => {
    expect(codeOf(() => decideCountersAllowed({ type: "Community", supportTopic: true }))).toBe(noPermission);
    expect(codeOf(() => decideCountersAllowed({ type: "Community", supportTopic: false }))).toBe(0);
    expect(codeOf(() => decideCountersAllowed({ type: "Private", supportTopic: false }))).toBe(0);
  });
});

describe("group attribute versions", () => {
  it("refuse a write against an older version with 10056; no version means no check", () => {
    expect(codeOf(() => checkAttributeVersion(3, 4))).toBe(attributeWriteConflict);
    expect(codeOf(() => checkAttributeVersion(4, 4))).toBe(0);
    expect(codeOf(() => checkAttributeVersion(undefined, 4))).toBe(0);
  });
});

describe("Community topics", () => {
  const groupId = "@TGS#_club";

  it("generated ids are {GroupId}@TOPIC#_ and ten base-32 characters", () => {
    expect(generateTopicId(groupId, new Uint8Array(10).fill(1))).toBe("@TGS#_club@TOPIC#_BBBBBBBBBB");
  });

  it("custom ids start with the group's prefix and carry 1–48 printable bytes after it", () => {
    expect(codeOf(() => checkCustomTopicId(groupId, `${groupId}@TOPIC#_music`))).toBe(0);
    expect(codeOf(() => checkCustomTopicId(groupId, "@TGS#_other@TOPIC#_music"))).toBe(invalidParameter);
    expect(codeOf(() => checkCustomTopicId(groupId, `${groupId}@TOPIC#_`))).toBe(invalidParameter);
    expect(codeOf(() => checkCustomTopicId(groupId, `${groupId}@TOPIC#_${"x".repeat(49)}`))).toBe(invalidParameter);
    expect(codeOf(() => checkCustomTopicId(groupId, `${groupId}@TOPIC#_a@TOPIC#_b`))).toBe(invalidParameter);
    expect(codeOf(() => checkCustomTopicId(groupId, `${groupId}@TOPIC#_é`))).toBe(invalidParameter);
  });

  it("exist only in Community groups created with SupportTopic (11000)", () => {
    expect(codeOf(() => decideTopicsEnabled({ type: "Community", supportTopic: true }))).toBe(0);
    expect(codeOf(() => decideTopicsEnabled({ type: "Community", supportTopic: false }))).toBe(topicsNotEnabled);
    expect(codeOf(() => decideTopicsEnabled({ type: "Public", supportTopic: true }))).toBe(topicsNotEnabled);
  });

  it("are managed by the owner, admins and app admins, and read by members", () => {
    expect((["Owner", "Admin", "AppAdmin", "Member", "NotMember"] as const).map((actor) => codeOf(() => decideTopicManagement(actor)))).toEqual([0, 0, 0, noPermission, noPermission]);
    expect((["Member", "NotMember"] as const).map((actor) => codeOf(() => decideTopicRead(actor)))).toEqual([0, noPermission]);
  });
});
