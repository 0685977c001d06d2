import { describe, expect, it } from "vitest";
import { defaultGroupPolicy, GroupErrorCode } from "../../src/domain/group.ts";
import {
  decideDismiss,
  decideHandleRequest,
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
  keepsUnreadCounts,
  refusalCode as codeOf,
} from "../../src/domain/groupRules.ts";

const type = "Public";
const group = { type } as const;
const allowed = 0;
const { noPermission, ownerMayNotQuit, muted, recallWindowPassed } = GroupErrorCode;

describe("Public group", () => {
  describe("joining", () => {
    it("needs the owner's or an admin's approval to join when ApplyJoinOption is NeedPermission", () => {
      expect(decideJoin({ type, applyJoinOption: "NeedPermission" }, "NotMember")).toBe("awaitApproval");
    });

    it("needs approval by default", () => {
      expect(decideJoin(group, "NotMember")).toBe("awaitApproval");
    });

    it("lets anyone in at once when ApplyJoinOption is FreeAccess", () => {
      expect(decideJoin({ type, applyJoinOption: "FreeAccess" }, "NotMember")).toBe("join");
    });

    it("refuses applications when ApplyJoinOption is DisableApply", () => {
      expect(codeOf(() => decideJoin({ type, applyJoinOption: "DisableApply" }, "NotMember"))).toBe(noPermission);
    });

    it("tells a member who applies again that they are already in", () => {
      expect(decideJoin(group, "Member")).toBe("alreadyMember");
    });

    it("lets the owner, admins and app admins handle join requests, not members", () => {
      expect(codeOf(() => decideHandleRequest(type, "Owner"))).toBe(allowed);
      expect(codeOf(() => decideHandleRequest(type, "Admin"))).toBe(allowed);
      expect(codeOf(() => decideHandleRequest(type, "AppAdmin"))).toBe(allowed);
      expect(codeOf(() => decideHandleRequest(type, "Member"))).toBe(noPermission);
      expect(codeOf(() => decideHandleRequest(type, "NotMember"))).toBe(noPermission);
    });
  });

  describe("inviting", () => {
    it("takes no invitations from its members by default, not even the owner's", () => {
      for (const inviter of ["Owner", "Admin", "Member"] as const) {
        expect(codeOf(() => decideInvite(group, inviter, defaultGroupPolicy))).toBe(noPermission);
      }
    });

    it("lets an app admin add members directly", () => {
      expect(decideInvite(group, "AppAdmin", defaultGroupPolicy)).toBe("add");
    });

    it("lets any member invite when InviteJoinOption is FreeAccess", () => {
      expect(decideInvite({ type, inviteJoinOption: "FreeAccess" }, "Member", defaultGroupPolicy)).toBe("add");
    });

    it("holds a member's invitation for an admin's approval when InviteJoinOption is NeedPermission, but not the owner's or an admin's", () => {
      const needsPermission = { type, inviteJoinOption: "NeedPermission" } as const;
      expect(decideInvite(needsPermission, "Member", defaultGroupPolicy)).toBe("awaitApproval");
      expect(decideInvite(needsPermission, "Admin", defaultGroupPolicy)).toBe("add");
      expect(decideInvite(needsPermission, "Owner", defaultGroupPolicy)).toBe("add");
    });

    it("never asks the invitee to consent", () => {
      const policy = { ...defaultGroupPolicy, inviteeMustAccept: true };
      expect(decideInvite({ type, inviteJoinOption: "FreeAccess" }, "Member", policy)).toBe("add");
    });

    it("refuses invitations from outside the group", () => {
      expect(codeOf(() => decideInvite({ type, inviteJoinOption: "FreeAccess" }, "NotMember", defaultGroupPolicy))).toBe(noPermission);
    });
  });

  describe("profile", () => {
    it("is edited by the owner and admins, not by members", () => {
      expect(codeOf(() => decideProfileEdit(type, "Owner", ["name", "notification"]))).toBe(allowed);
      expect(codeOf(() => decideProfileEdit(type, "Admin", ["name", "faceUrl", "appDefinedData"]))).toBe(allowed);
      expect(codeOf(() => decideProfileEdit(type, "Member", ["introduction"]))).toBe(noPermission);
      expect(codeOf(() => decideProfileEdit(type, "NotMember", ["name"]))).toBe(noPermission);
    });

    it("lets admins change how people join and mute everyone", () => {
      expect(codeOf(() => decideProfileEdit(type, "Admin", ["applyJoinOption", "inviteJoinOption", "muteAllMember"]))).toBe(allowed);
    });

    it("leaves the member limit and history visibility to the owner and app admins", () => {
      expect(codeOf(() => decideProfileEdit(type, "Admin", ["maxMemberNum"]))).toBe(noPermission);
      expect(codeOf(() => decideProfileEdit(type, "Admin", ["historyMsgBeforeJoin"]))).toBe(noPermission);
      expect(codeOf(() => decideProfileEdit(type, "Owner", ["maxMemberNum", "historyMsgBeforeJoin"]))).toBe(allowed);
      expect(codeOf(() => decideProfileEdit(type, "AppAdmin", ["maxMemberNum", "historyMsgBeforeJoin"]))).toBe(allowed);
    });

    it("refuses the whole change when one field is out of the actor's reach", () => {
      expect(codeOf(() => decideProfileEdit(type, "Admin", ["name", "maxMemberNum"]))).toBe(noPermission);
    });
  });

  describe("admins", () => {
    it("are made and unmade by the owner only", () => {
      expect(decideRoleChange(type, "Owner", "Member", "Admin")).toBe("changed");
      expect(decideRoleChange(type, "AppAdmin", "Admin", "Member")).toBe("changed");
      expect(codeOf(() => decideRoleChange(type, "Admin", "Member", "Admin"))).toBe(noPermission);
      expect(codeOf(() => decideRoleChange(type, "Member", "Member", "Admin"))).toBe(noPermission);
    });

    it("leave the owner's role alone", () => {
      expect(codeOf(() => decideRoleChange(type, "AppAdmin", "Owner", "Member"))).toBe(noPermission);
    });

    it("report a role that is already set as unchanged", () => {
      expect(decideRoleChange(type, "Owner", "Admin", "Admin")).toBe("unchanged");
    });
  });

  describe("kicking and muting", () => {
    it("lets the owner remove admins and members", () => {
      expect(codeOf(() => decideKick(type, "Owner", "Admin"))).toBe(allowed);
      expect(codeOf(() => decideKick(type, "Owner", "Member"))).toBe(allowed);
    });

    it("lets admins remove plain members only", () => {
      expect(codeOf(() => decideKick(type, "Admin", "Member"))).toBe(allowed);
      expect(codeOf(() => decideKick(type, "Admin", "Admin"))).toBe(noPermission);
    });

    it("never removes the owner, not even for an app admin", () => {
      expect(codeOf(() => decideKick(type, "AppAdmin", "Owner"))).toBe(noPermission);
      expect(codeOf(() => decideKick(type, "Admin", "Owner"))).toBe(noPermission);
    });

    it("refuses a member who tries to remove someone", () => {
      expect(codeOf(() => decideKick(type, "Member", "Member"))).toBe(noPermission);
    });

    it("lets the owner and admins mute, admins plain members only", () => {
      expect(codeOf(() => decideMute(type, "Owner", "Admin"))).toBe(allowed);
      expect(codeOf(() => decideMute(type, "Admin", "Member"))).toBe(allowed);
      expect(codeOf(() => decideMute(type, "Admin", "Admin"))).toBe(noPermission);
      expect(codeOf(() => decideMute(type, "Member", "Member"))).toBe(noPermission);
      expect(codeOf(() => decideMute(type, "AppAdmin", "Owner"))).toBe(noPermission);
    });
  });

  describe("member information", () => {
    it("lets members set their own name card and message option", () => {
      expect(codeOf(() => decideMemberFieldEdit(type, "Member", { self: true, role: "Member" }, "nameCard"))).toBe(allowed);
      expect(codeOf(() => decideMemberFieldEdit(type, "Member", { self: true, role: "Member" }, "msgFlag"))).toBe(allowed);
    });

    it("lets admins set a member's name card but not their message option", () => {
      expect(codeOf(() => decideMemberFieldEdit(type, "Admin", { self: false, role: "Member" }, "nameCard"))).toBe(allowed);
      expect(codeOf(() => decideMemberFieldEdit(type, "Admin", { self: false, role: "Member" }, "msgFlag"))).toBe(noPermission);
      expect(codeOf(() => decideMemberFieldEdit(type, "Admin", { self: false, role: "Admin" }, "nameCard"))).toBe(noPermission);
    });
  });

  describe("dismissing, leaving and ownership", () => {
    it("is dismissed by the owner or an app admin", () => {
      expect(codeOf(() => decideDismiss(type, "Owner"))).toBe(allowed);
      expect(codeOf(() => decideDismiss(type, "AppAdmin"))).toBe(allowed);
      expect(codeOf(() => decideDismiss(type, "Admin"))).toBe(noPermission);
    });

    it("does not let the owner quit", () => {
      expect(codeOf(() => decideQuit(type, "Owner"))).toBe(ownerMayNotQuit);
      expect(decideQuit(type, "Admin")).toEqual({ ownerLeaves: false });
    });

    it("changes hands from the owner or an app admin to a member", () => {
      expect(decideOwnerTransfer(type, "Owner", "Admin")).toBe("transfer");
      expect(decideOwnerTransfer(type, "AppAdmin", "Member")).toBe("transfer");
      expect(codeOf(() => decideOwnerTransfer(type, "Admin", "Member"))).toBe(noPermission);
      expect(codeOf(() => decideOwnerTransfer(type, "Owner", "NotMember"))).toBe(GroupErrorCode.invalidParameter);
    });
  });

  describe("messages", () => {
    const now = 1_800_000_000;

    it("refuses messages from outside the group", () => {
      expect(codeOf(() => decideSend({ type, muteAllMember: false }, { actor: "NotMember" }, now))).toBe(noPermission);
    });

    it("refuses a muted member until the mute ends", () => {
      expect(codeOf(() => decideSend({ type, muteAllMember: false }, { actor: "Member", muteUntil: now + 60 }, now))).toBe(muted);
      expect(codeOf(() => decideSend({ type, muteAllMember: false }, { actor: "Member", muteUntil: now }, now))).toBe(allowed);
    });

    it("silences plain members when everyone is muted, but not the owner or admins", () => {
      const allMuted = { type, muteAllMember: true } as const;
      expect(codeOf(() => decideSend(allMuted, { actor: "Member" }, now))).toBe(muted);
      expect(codeOf(() => decideSend(allMuted, { actor: "Admin" }, now))).toBe(allowed);
      expect(codeOf(() => decideSend(allMuted, { actor: "Owner" }, now))).toBe(allowed);
      expect(codeOf(() => decideSend(allMuted, { actor: "AppAdmin" }, now))).toBe(allowed);
    });

    it("keeps earlier history from new members unless HistoryMsgBeforeJoin is on", () => {
      expect(firstVisibleSeq(group, 42)).toBe(42);
      expect(firstVisibleSeq({ type, historyMsgBeforeJoin: true }, 42)).toBe(1);
    });

    it("keeps unread counts", () => {
      expect(keepsUnreadCounts(type)).toBe(true);
    });

    it("lets members recall their own messages within the window, admins any message any time", () => {
      const sentAtMs = 1_000_000;
      const own = { fromActor: true, sentAtMs };
      const others = { fromActor: false, sentAtMs };
      expect(decideRecall(type, "Member", own, sentAtMs + 119_000, 120)).toBe("recall");
      expect(codeOf(() => decideRecall(type, "Member", own, sentAtMs + 121_000, 120))).toBe(recallWindowPassed);
      expect(codeOf(() => decideRecall(type, "Member", others, sentAtMs, 120))).toBe(noPermission);
      expect(decideRecall(type, "Admin", others, sentAtMs + 86_400_000, 120)).toBe("recall");
      expect(decideRecall(type, "AppAdmin", others, sentAtMs + 86_400_000, 120)).toBe("recall");
    });
  });
});
