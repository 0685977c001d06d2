import { describe, expect, it } from "vitest";
import { defaultGroupPolicy, GroupErrorCode, memberLimitOf } from "../../src/domain/group.ts";
import {
  checkGroupsPerUser,
  checkInitialMembers,
  decideDismiss,
  decideInvite,
  decideJoin,
  decideKick,
  decideMute,
  decideOwnerTransfer,
  decideProfileEdit,
  decideQuit,
  decideRecall,
  decideRoleChange,
  decideSend,
  firstVisibleSeq,
  keepsUnreadCounts,
  refusalCode as codeOf,
  storesHistory,
} from "../../src/domain/groupRules.ts";

const type = "AVChatRoom";
const group = { type } as const;
const allowed = 0;
const { noPermission, ownerMayNotQuit } = GroupErrorCode;

describe("Live room (AVChatRoom)", () => {
  describe("joining", () => {
    it("is free to join, whatever ApplyJoinOption says", () => {
      expect(decideJoin(group, "NotMember")).toBe("join");
      expect(decideJoin({ type, applyJoinOption: "NeedPermission" }, "NotMember")).toBe("join");
    });

    it("takes no invitations, not even from an app admin", () => {
      expect(codeOf(() => decideInvite(group, "Owner", defaultGroupPolicy))).toBe(noPermission);
      expect(codeOf(() => decideInvite(group, "AppAdmin", defaultGroupPolicy))).toBe(noPermission);
    });

    it("starts empty: a create that names members is refused", () => {
      expect(codeOf(() => checkInitialMembers(type, [{}], { withOwner: true, maxMemberNum: 0 }))).toBe(noPermission);
      expect(codeOf(() => checkInitialMembers(type, [], { withOwner: true, maxMemberNum: 0 }))).toBe(allowed);
    });

    it("has no member limit and does not count toward a user's groups", () => {
      expect(memberLimitOf(type, defaultGroupPolicy)).toBe(Number.POSITIVE_INFINITY);
      expect(codeOf(() => checkGroupsPerUser(type, 10_000, defaultGroupPolicy))).toBe(allowed);
    });
  });

  describe("profile and roles", () => {
    it("is edited by the owner only", () => {
      expect(codeOf(() => decideProfileEdit(type, "Owner", ["name", "muteAllMember"]))).toBe(allowed);
      expect(codeOf(() => decideProfileEdit(type, "Member", ["name"]))).toBe(noPermission);
    });

    it("has no history setting", () => {
      expect(codeOf(() => decideProfileEdit(type, "Owner", ["historyMsgBeforeJoin"]))).toBe(GroupErrorCode.invalidParameter);
    });

    it("has no admins among its member roles", () => {
      expect(codeOf(() => decideRoleChange(type, "Owner", "Member", "Admin"))).toBe(noPermission);
    });

    it("cannot change hands", () => {
      expect(codeOf(() => decideOwnerTransfer(type, "AppAdmin", "Member"))).toBe(noPermission);
    });
  });

  describe("kicking and muting", () => {
    it("has no kicking", () => {
      expect(codeOf(() => decideKick(type, "Owner", "Member"))).toBe(noPermission);
      expect(codeOf(() => decideKick(type, "AppAdmin", "Member"))).toBe(noPermission);
    });

    it("lets the owner mute", () => {
      expect(codeOf(() => decideMute(type, "Owner", "Member"))).toBe(allowed);
      expect(codeOf(() => decideMute(type, "Member", "Member"))).toBe(noPermission);
    });
  });

  describe("dismissing and leaving", () => {
    it("is dismissed by the owner or an app admin", () => {
      expect(codeOf(() => decideDismiss(type, "Owner"))).toBe(allowed);
      expect(codeOf(() => decideDismiss(type, "AppAdmin"))).toBe(allowed);
    });

    it("does not let the owner quit", () => {
      expect(codeOf(() => decideQuit(type, "Owner"))).toBe(ownerMayNotQuit);
    });
  });

  describe("messages", () => {
    it("refuses messages from people who have not joined", () => {
      expect(codeOf(() => decideSend({ type, muteAllMember: false }, { actor: "NotMember" }, 0))).toBe(noPermission);
    });

    it("keeps no history and no unread counts", () => {
      expect(storesHistory(type)).toBe(false);
      expect(firstVisibleSeq({ type, historyMsgBeforeJoin: true }, 30)).toBe(30);
      expect(keepsUnreadCounts(type)).toBe(false);
    });

    it("has nothing to recall", () => {
      expect(codeOf(() => decideRecall(type, "Owner", { fromActor: true, sentAtMs: 0 }, 0, 120))).toBe(GroupErrorCode.recallNotSupported);
    });
  });
});
