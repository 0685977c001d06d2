import { describe, expect, it } from "vitest";
import { defaultGroupPolicy, GroupErrorCode } from "../../src/domain/group.ts";
import {
  decideDismiss,
  decideInvite,
  decideJoin,
  decideKick,
  decideMemberFieldEdit,
  decideMute,
  decideOwnerTransfer,
  decideProfileEdit,
  decideQuit,
  decideRecall,
  decideRoleChange,
  decideSend,
  firstVisibleSeq,
  hasAdmins,
  keepsUnreadCounts,
  refusalCode as codeOf,
} from "../../src/domain/groupRules.ts";

const type = "Private";
const group = { type } as const;
const allowed = 0;
const { noPermission } = GroupErrorCode;

describe("Work group (Private)", () => {
  describe("joining", () => {
    it("is joined by invitation only", () => {
      expect(codeOf(() => decideJoin(group, "NotMember"))).toBe(noPermission);
    });

    it("takes applications when the app opens them with ApplyJoinOption", () => {
      expect(decideJoin({ type, applyJoinOption: "FreeAccess" }, "NotMember")).toBe("join");
    });

    it("lets any member invite, with no approval", () => {
      expect(decideInvite(group, "Member", defaultGroupPolicy)).toBe("add");
      expect(decideInvite(group, "Owner", defaultGroupPolicy)).toBe("add");
      expect(decideInvite(group, "AppAdmin", defaultGroupPolicy)).toBe("add");
    });

    it("waits for the invitee when the app asks for the invitee's consent", () => {
      const policy = { ...defaultGroupPolicy, inviteeMustAccept: true };
      expect(decideInvite(group, "Member", policy)).toBe("awaitInvitee");
      expect(decideInvite(group, "AppAdmin", policy)).toBe("awaitInvitee");
    });

    it("refuses invitations from outside the group", () => {
      expect(codeOf(() => decideInvite(group, "NotMember", defaultGroupPolicy))).toBe(noPermission);
    });

    it("stops members inviting when InviteJoinOption is DisableInvite, but not an app admin", () => {
      const closed = { type, inviteJoinOption: "DisableInvite" } as const;
      expect(codeOf(() => decideInvite(closed, "Owner", defaultGroupPolicy))).toBe(noPermission);
      expect(decideInvite(closed, "AppAdmin", defaultGroupPolicy)).toBe("add");
    });
  });

  describe("profile and roles", () => {
    it("lets any member edit the profile", () => {
      expect(codeOf(() => decideProfileEdit(type, "Member", ["name", "introduction", "notification", "faceUrl", "appDefinedData"]))).toBe(allowed);
    });

    it("leaves join and invitation options to the owner", () => {
      expect(codeOf(() => decideProfileEdit(type, "Member", ["applyJoinOption"]))).toBe(noPermission);
      expect(codeOf(() => decideProfileEdit(type, "Owner", ["applyJoinOption", "inviteJoinOption"]))).toBe(allowed);
    });

    it("has no admins", () => {
      expect(hasAdmins(type)).toBe(false);
      expect(codeOf(() => decideRoleChange(type, "Owner", "Member", "Admin"))).toBe(noPermission);
    });

    it("changes hands from the owner to a member", () => {
      expect(decideOwnerTransfer(type, "Owner", "Member")).toBe("transfer");
    });

    it("lets only the owner change another member's name card", () => {
      expect(codeOf(() => decideMemberFieldEdit(type, "Owner", { self: false, role: "Member" }, "nameCard"))).toBe(allowed);
      expect(codeOf(() => decideMemberFieldEdit(type, "Member", { self: false, role: "Member" }, "nameCard"))).toBe(noPermission);
    });
  });

  describe("kicking and muting", () => {
    it("lets the owner remove members", () => {
      expect(codeOf(() => decideKick(type, "Owner", "Member"))).toBe(allowed);
      expect(codeOf(() => decideKick(type, "AppAdmin", "Member"))).toBe(allowed);
    });

    it("does not let members remove each other", () => {
      expect(codeOf(() => decideKick(type, "Member", "Member"))).toBe(noPermission);
    });

    it("has no muting, not even for the owner or an app admin", () => {
      expect(codeOf(() => decideMute(type, "Owner", "Member"))).toBe(noPermission);
      expect(codeOf(() => decideMute(type, "AppAdmin", "Member"))).toBe(noPermission);
      expect(codeOf(() => decideProfileEdit(type, "Owner", ["muteAllMember"]))).toBe(noPermission);
    });
  });

  describe("dismissing and leaving", () => {
    it("is dismissed by an app admin only, not by its owner", () => {
      expect(codeOf(() => decideDismiss(type, "AppAdmin"))).toBe(allowed);
      expect(codeOf(() => decideDismiss(type, "Owner"))).toBe(noPermission);
      expect(codeOf(() => decideDismiss(type, "Member"))).toBe(noPermission);
    });

    it("lets the owner quit, leaving the group without an owner", () => {
      expect(decideQuit(type, "Owner")).toEqual({ ownerLeaves: true });
      expect(decideQuit(type, "Member")).toEqual({ ownerLeaves: false });
    });

    it("refuses to let someone outside the group quit it", () => {
      expect(codeOf(() => decideQuit(type, "NotMember"))).toBe(noPermission);
    });
  });

  describe("messages", () => {
    it("lets members send and refuses others", () => {
      expect(codeOf(() => decideSend({ type, muteAllMember: false }, { actor: "Member" }, 0))).toBe(allowed);
      expect(codeOf(() => decideSend({ type, muteAllMember: false }, { actor: "NotMember" }, 0))).toBe(noPermission);
    });

    it("hides earlier history from new members by default, shows it when HistoryMsgBeforeJoin is on", () => {
      expect(firstVisibleSeq(group, 10)).toBe(10);
      expect(firstVisibleSeq({ type, historyMsgBeforeJoin: true }, 10)).toBe(1);
    });

    it("keeps unread counts", () => {
      expect(keepsUnreadCounts(type)).toBe(true);
    });

    it("lets the owner recall anyone's message at any time", () => {
      expect(decideRecall(type, "Owner", { fromActor: false, sentAtMs: 0 }, 10 * 86_400_000, 120)).toBe("recall");
    });
  });
});
