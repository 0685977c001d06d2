import { describe, expect, it } from "vitest";
import { defaultGroupPolicy, GroupErrorCode, memberLimitOf } from "../../src/domain/group.ts";
import {
  decideDismiss,
  decideInvite,
  decideJoin,
  decideKick,
  decideMute,
  decideProfileEdit,
  decideQuit,
  decideRoleChange,
  firstVisibleSeq,
  keepsUnreadCounts,
  refusalCode as codeOf,
} from "../../src/domain/groupRules.ts";

const type = "Community";
const group = { type } as const;
const allowed = 0;
const { noPermission, ownerMayNotQuit } = GroupErrorCode;

describe("Community group", () => {
  describe("joining", () => {
    it("lets anyone join without approval", () => {
      expect(decideJoin(group, "NotMember")).toBe("join");
    });

    it("lets members invite", () => {
      expect(decideInvite(group, "Member", defaultGroupPolicy)).toBe("add");
    });

    it("holds a member's invitation for approval when InviteJoinOption is NeedPermission", () => {
      expect(decideInvite({ type, inviteJoinOption: "NeedPermission" }, "Member", defaultGroupPolicy)).toBe("awaitApproval");
      expect(decideInvite({ type, inviteJoinOption: "NeedPermission" }, "Admin", defaultGroupPolicy)).toBe("add");
    });
  });

  describe("profile and roles", () => {
    it("is edited by the owner and admins", () => {
      expect(codeOf(() => decideProfileEdit(type, "Owner", ["name"]))).toBe(allowed);
      expect(codeOf(() => decideProfileEdit(type, "Admin", ["notification"]))).toBe(allowed);
      expect(codeOf(() => decideProfileEdit(type, "Member", ["notification"]))).toBe(noPermission);
    });

    it("has admins, set by the owner", () => {
      expect(decideRoleChange(type, "Owner", "Member", "Admin")).toBe("changed");
      expect(codeOf(() => decideRoleChange(type, "Admin", "Member", "Admin"))).toBe(noPermission);
    });
  });

  describe("kicking and muting", () => {
    it("lets the owner and admins remove and mute, admins plain members only", () => {
      expect(codeOf(() => decideKick(type, "Admin", "Member"))).toBe(allowed);
      expect(codeOf(() => decideKick(type, "Admin", "Admin"))).toBe(noPermission);
      expect(codeOf(() => decideMute(type, "Owner", "Admin"))).toBe(allowed);
    });
  });

  describe("dismissing and leaving", () => {
    it("is dismissed by the owner or an app admin", () => {
      expect(codeOf(() => decideDismiss(type, "Owner"))).toBe(allowed);
      expect(codeOf(() => decideDismiss(type, "Member"))).toBe(noPermission);
    });

    it("does not let the owner quit", () => {
      expect(codeOf(() => decideQuit(type, "Owner"))).toBe(ownerMayNotQuit);
    });
  });

  describe("size and messages", () => {
    it("holds up to 100,000 members by default", () => {
      expect(memberLimitOf(type, defaultGroupPolicy)).toBe(100_000);
    });

    it("shows new members the history from before they joined", () => {
      expect(firstVisibleSeq(group, 9)).toBe(1);
    });

    it("keeps unread counts", () => {
      expect(keepsUnreadCounts(type)).toBe(true);
    });
  });
});
