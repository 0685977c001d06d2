import { describe, expect, it } from "vitest";
import { defaultGroupPolicy, GroupErrorCode } from "../../src/domain/group.ts";
import {
  decideDismiss,
  decideInvite,
  decideJoin,
  decideKick,
  decideMute,
  decideProfileEdit,
  decideQuit,
  decideRoleChange,
  decideSend,
  firstVisibleSeq,
  hasAdmins,
  keepsUnreadCounts,
  refusalCode as codeOf,
} from "../../src/domain/groupRules.ts";

const type = "ChatRoom";
const group = { type } as const;
const allowed = 0;
const { noPermission, ownerMayNotQuit, muted } = GroupErrorCode;

describe("Meeting group (ChatRoom)", () => {
  describe("joining", () => {
    it("lets anyone join without approval", () => {
      expect(decideJoin(group, "NotMember")).toBe("join");
    });

    it("follows ApplyJoinOption when one is set", () => {
      expect(decideJoin({ type, applyJoinOption: "NeedPermission" }, "NotMember")).toBe("awaitApproval");
    });

    it("takes no invitations from members by default; an app admin adds members", () => {
      expect(codeOf(() => decideInvite(group, "Owner", defaultGroupPolicy))).toBe(noPermission);
      expect(decideInvite(group, "AppAdmin", defaultGroupPolicy)).toBe("add");
    });
  });

  describe("profile and roles", () => {
    it("is edited by the owner only", () => {
      expect(codeOf(() => decideProfileEdit(type, "Owner", ["name"]))).toBe(allowed);
      expect(codeOf(() => decideProfileEdit(type, "Admin", ["name"]))).toBe(noPermission);
      expect(codeOf(() => decideProfileEdit(type, "Member", ["name"]))).toBe(noPermission);
    });

    it("has admins, set by the owner", () => {
      expect(hasAdmins(type)).toBe(true);
      expect(decideRoleChange(type, "Owner", "Member", "Admin")).toBe("changed");
    });
  });

  describe("kicking and muting", () => {
    it("lets the owner and admins remove and mute, admins plain members only", () => {
      expect(codeOf(() => decideKick(type, "Owner", "Admin"))).toBe(allowed);
      expect(codeOf(() => decideKick(type, "Admin", "Member"))).toBe(allowed);
      expect(codeOf(() => decideKick(type, "Admin", "Admin"))).toBe(noPermission);
      expect(codeOf(() => decideMute(type, "Admin", "Member"))).toBe(allowed);
      expect(codeOf(() => decideMute(type, "Member", "Member"))).toBe(noPermission);
    });
  });

  describe("dismissing and leaving", () => {
    it("is dismissed by the owner or an app admin", () => {
      expect(codeOf(() => decideDismiss(type, "Owner"))).toBe(allowed);
      expect(codeOf(() => decideDismiss(type, "AppAdmin"))).toBe(allowed);
      expect(codeOf(() => decideDismiss(type, "Admin"))).toBe(noPermission);
    });

    it("does not let the owner quit", () => {
      expect(codeOf(() => decideQuit(type, "Owner"))).toBe(ownerMayNotQuit);
    });
  });

  describe("messages", () => {
    it("shows new members the history from before they joined", () => {
      expect(firstVisibleSeq(group, 57)).toBe(1);
    });

    it("hides it when HistoryMsgBeforeJoin is turned off", () => {
      expect(firstVisibleSeq({ type, historyMsgBeforeJoin: false }, 57)).toBe(57);
    });

    it("keeps no unread counts", () => {
      expect(keepsUnreadCounts(type)).toBe(false);
    });

    it("refuses plain members while everyone is muted", () => {
      expect(codeOf(() => decideSend({ type, muteAllMember: true }, { actor: "Member" }, 0))).toBe(muted);
      expect(codeOf(() => decideSend({ type, muteAllMember: true }, { actor: "Admin" }, 0))).toBe(allowed);
    });
  });
});
