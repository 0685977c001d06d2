/**
 * Group management with @tencentcloud/chat's names and result shapes, over
 * the group ops of docs/PROTOCOL.md. The group's actor decides what the user
 * may do; its codes (10xxx) reach the app unchanged.
 */
import type { GroupMember as ServerMember, GroupProfile } from "../domain/group.ts";
import { ChatError, SdkErrorCode, TYPES } from "./constants.ts";
import type { LiveTicket } from "./liveRooms.ts";
import type { Message } from "./model.ts";

/** What the ops answer (docs/PROTOCOL.md). */
interface GroupRow {
  groupId: string;
  type: string;
  name: string;
  owner?: string;
  memberCount: number;
  createdAt: number;
  lastSeq: number;
  lastMsgTime: number;
  joinedAt?: number;
}
interface GroupInfo {
  profile: GroupProfile;
  memberNum: number;
  nextMsgSeq: number;
  lastMsgTime: number;
}
type StoredMember = ServerMember;

export interface Group {
  groupID: string;
  name: string;
  type: string;
  avatar: string;
  introduction: string;
  notification: string;
  ownerID: string;
  createTime: number;
  infoSequence: number;
  memberCount: number;
  maxMemberCount: number;
  muteAllMembers: boolean;
  joinOption: string;
  groupCustomField: { key: string; value: string }[];
  /** The group's next MsgSeq. */
  nextMessageSeq: number;
  lastMessage: { lastTime: number; lastSequence: number };
  /** The user's own membership (empty role when not a member). */
  selfInfo: { role: string; joinTime: number; nameCard: string; messageRemindType: string };
  isSupportTopic: boolean;
}

export interface GroupMember {
  userID: string;
  nick: string;
  avatar: string;
  role: string;
  joinTime: number;
  nameCard: string;
  /** Unix seconds the member is muted until; 0 when not muted. */
  muteUntil: number;
  memberCustomField: { key: string; value: string }[];
}

export interface GroupApplication {
  groupID: string;
  groupName: string;
  applicant: string;
  applicantNick: string;
  /** 0: the applicant asked to join; 2: the applicant was invited and an admin must approve. */
  applicationType: number;
  note: string;
  time: number;
}

export interface CreateGroupOptions {
  name: string;
  type?: string;
  groupID?: string;
  introduction?: string;
  notification?: string;
  avatar?: string;
  maxMemberNum?: number;
  joinOption?: string;
  memberList?: { userID: string; role?: string }[];
  groupCustomField?: { key: string; value: string }[];
  /** Community groups: the group has topics (createTopicInCommunity). */
  isSupportTopic?: boolean;
}

export type UpdateGroupOptions = { groupID: string } & Partial<Omit<CreateGroupOptions, "type" | "groupID" | "memberList" | "isSupportTopic">> & { muteAllMembers?: boolean };

/** What the group part needs from the chat instance. */
export interface GroupApiHost {
  call<T>(op: string, data?: unknown): Promise<T>;
  me(): string;
  /** Nick and avatar of these users, as far as they are known. */
  people(userIDs: string[]): Promise<Map<string, { nick: string; avatar: string }>>;
  /** A live room was joined: open its live connection with the join's ticket. */
  watchLive(ticket: LiveTicket): Promise<void>;
  /** The user quit a group: stop watching it if it is a live room. */
  unwatchLive(groupID: string): void;
}

export interface Ok<T> {
  code: 0;
  data: T;
}
export const ok = <T>(data: T): Ok<T> => ({ code: 0, data });

export const needGroupID = (groupID: unknown, method: string): string => {
  if (typeof groupID !== "string" || !groupID) throw new ChatError(SdkErrorCode.invalidParameter, `${method}() needs a groupID`);
  return groupID;
};

const emptySelf = { role: "", joinTime: 0, nameCard: "", messageRemindType: "" };

/** A Group from a row of the user's group list (the fields the directory holds). */
export function groupFromRow(row: GroupRow): Group {
  return {
    groupID: row.groupId,
    name: row.name,
    type: row.type,
    avatar: "",
    introduction: "",
    notification: "",
    ownerID: row.owner ?? "",
    createTime: row.createdAt,
    infoSequence: 0,
    memberCount: row.memberCount,
    maxMemberCount: 0,
    muteAllMembers: false,
    joinOption: "",
    groupCustomField: [],
    nextMessageSeq: row.lastSeq + 1,
    lastMessage: { lastTime: row.lastMsgTime, lastSequence: row.lastSeq },
    selfInfo: { ...emptySelf, joinTime: row.joinedAt ?? 0 },
    isSupportTopic: false,
  };
}

function groupFromInfo(info: GroupInfo, self?: StoredMember): Group {
  const p = info.profile;
  return {
    groupID: p.groupId,
    name: p.name,
    type: p.type,
    avatar: p.faceUrl,
    introduction: p.introduction,
    notification: p.notification,
    ownerID: p.ownerAccount ?? "",
    createTime: p.createTime,
    infoSequence: p.infoSeq,
    memberCount: info.memberNum,
    maxMemberCount: p.maxMemberNum,
    muteAllMembers: p.muteAllMember,
    joinOption: p.applyJoinOption ?? "",
    groupCustomField: p.appDefinedData,
    nextMessageSeq: info.nextMsgSeq,
    lastMessage: { lastTime: info.lastMsgTime, lastSequence: info.nextMsgSeq - 1 },
    selfInfo: self ? { role: self.role, joinTime: self.joinTime, nameCard: self.nameCard, messageRemindType: self.msgFlag } : emptySelf,
    isSupportTopic: p.supportTopic,
  };
}

export class GroupApi {
  private readonly host: GroupApiHost;

  constructor(host: GroupApiHost) {
    this.host = host;
  }

  async getGroupList(): Promise<Ok<{ groupList: Group[] }>> {
    const { groups } = await this.host.call<{ groups: GroupRow[] }>("getGroupList");
    return ok({ groupList: groups.map(groupFromRow) });
  }

  /** The group's profile, with the user's own membership in `selfInfo`. */
  async getGroupProfile(options: { groupID: string }): Promise<Ok<{ group: Group }>> {
    const groupID = needGroupID(options?.groupID, "getGroupProfile");
    const [info, self] = await Promise.all([
      this.host.call<GroupInfo>("getGroupProfile", { groupID }),
      // Only members may read members: anyone else has no selfInfo.
      this.host.call<{ members: StoredMember[] }>("getGroupMemberProfile", { groupID, userIDList: [this.host.me()] }).then((r) => r.members[0], () => undefined),
    ]);
    return ok({ group: groupFromInfo(info, self) });
  }

  async searchGroupByID(groupID: string): Promise<Ok<{ group: Group }>> {
    const info = await this.host.call<GroupInfo>("searchGroupByID", { groupID: needGroupID(groupID, "searchGroupByID") });
    return ok({ group: groupFromInfo(info) });
  }

  async createGroup(options: CreateGroupOptions): Promise<Ok<{ group: Group; overLimitUserIDList: string[] }>> {
    if (!options || typeof options.name !== "string" || !options.name) throw new ChatError(SdkErrorCode.invalidParameter, "createGroup() needs a name");
    const { groupId } = await this.host.call<{ groupId: string }>("createGroup", {
      type: options.type ?? TYPES.GRP_WORK,
      name: options.name,
      groupID: options.groupID || undefined,
      introduction: options.introduction,
      notification: options.notification,
      avatar: options.avatar,
      maxMemberNum: options.maxMemberNum,
      joinOption: options.joinOption,
      memberList: options.memberList?.map((m) => ({ userID: m.userID, role: m.role === TYPES.GRP_MBR_ROLE_ADMIN ? m.role : undefined })),
      groupCustomField: options.groupCustomField,
      isSupportTopic: options.isSupportTopic || undefined,
    });
    return ok({ ...(await this.getGroupProfile({ groupID: groupId })).data, overLimitUserIDList: [] });
  }

  async dismissGroup(groupID: string): Promise<Ok<{ groupID: string }>> {
    await this.host.call("dismissGroup", { groupID: needGroupID(groupID, "dismissGroup") });
    return ok({ groupID });
  }

  async updateGroupProfile(options: UpdateGroupOptions): Promise<Ok<{ group: Group }>> {
    const groupID = needGroupID(options?.groupID, "updateGroupProfile");
    await this.host.call("updateGroupProfile", { ...options, groupID });
    return this.getGroupProfile({ groupID });
  }

  /**
   * Joins, or asks to: `status` is one of TYPES.JOIN_STATUS_*. A live room (AVChatRoom) answers
   * with a ticket to one of its shards, whose connection is open when this resolves; `type` is
   * taken for Tencent's signature and not needed: the room's own type decides.
   */
  async joinGroup(options: { groupID: string; applyMessage?: string; type?: string }): Promise<Ok<{ status: string; group?: Group }>> {
    const groupID = needGroupID(options?.groupID, "joinGroup");
    const { status, live } = await this.host.call<{ status: string; live?: LiveTicket }>("joinGroup", { groupID, applyMessage: options.applyMessage });
    if (live) await this.host.watchLive(live);
    if (status !== TYPES.JOIN_STATUS_SUCCESS) return ok({ status });
    return ok({ status, group: (await this.getGroupProfile({ groupID })).data.group });
  }

  async quitGroup(groupID: string): Promise<Ok<{ groupID: string }>> {
    await this.host.call("quitGroup", { groupID: needGroupID(groupID, "quitGroup") });
    this.host.unwatchLive(groupID);
    return ok({ groupID });
  }

  async changeGroupOwner(options: { groupID: string; newOwnerID: string }): Promise<Ok<{ group: Group }>> {
    const groupID = needGroupID(options?.groupID, "changeGroupOwner");
    await this.host.call("changeGroupOwner", { groupID, newOwnerID: options.newOwnerID });
    return this.getGroupProfile({ groupID });
  }

  /** A page of members (`count` ≤ 100, 15 by default); `offset` in the answer is the next page's, 0 at the end. */
  async getGroupMemberList(options: { groupID: string; count?: number; offset?: number }): Promise<Ok<{ memberList: GroupMember[]; offset: number }>> {
    const groupID = needGroupID(options?.groupID, "getGroupMemberList");
    const offset = options.offset ?? 0;
    const page = await this.host.call<{ memberNum: number; members: StoredMember[] }>("getGroupMemberList", { groupID, count: options.count ?? 15, offset });
    const next = offset + page.members.length;
    return ok({ memberList: await this.members(page.members), offset: next < page.memberNum && page.members.length > 0 ? next : 0 });
  }

  async getGroupMemberProfile(options: { groupID: string; userIDList: string[] }): Promise<Ok<{ memberList: GroupMember[] }>> {
    const groupID = needGroupID(options?.groupID, "getGroupMemberProfile");
    const { members } = await this.host.call<{ members: StoredMember[] }>("getGroupMemberProfile", { groupID, userIDList: options.userIDList });
    return ok({ memberList: await this.members(members) });
  }

  /** Adds members; each user lands in one of the lists, as the group's rules decided for them. */
  async addGroupMember(options: { groupID: string; userIDList: string[] }) {
    const groupID = needGroupID(options?.groupID, "addGroupMember");
    const { results } = await this.host.call<{ results: { userId: string; result: number }[] }>("addGroupMember", { groupID, userIDList: options.userIDList });
    const withResult = (n: number) => results.filter((r) => r.result === n).map((r) => r.userId);
    return ok({
      successUserIDList: withResult(1),
      failureUserIDList: withResult(0),
      existedUserIDList: withResult(2),
      /** Invited, and waiting for the invitee or an admin to accept. */
      inviteeUserIDList: withResult(3),
      group: { groupID },
    });
  }

  async deleteGroupMember(options: { groupID: string; userIDList: string[]; reason?: string }): Promise<Ok<{ group: { groupID: string }; userIDList: string[] }>> {
    const groupID = needGroupID(options?.groupID, "deleteGroupMember");
    await this.host.call("deleteGroupMember", { groupID, userIDList: options.userIDList, reason: options.reason });
    return ok({ group: { groupID }, userIDList: options.userIDList });
  }

  async setGroupMemberRole(options: { groupID: string; userID: string; role: string }) {
    return this.changeMember("setGroupMemberRole", options, { userID: options?.userID, role: options?.role });
  }

  /** Mutes for `muteTime` seconds; 0 unmutes. */
  async setGroupMemberMuteTime(options: { groupID: string; userID: string; muteTime: number }) {
    return this.changeMember("setGroupMemberMuteTime", options, { userID: options?.userID, muteTime: options?.muteTime });
  }

  async setGroupMemberNameCard(options: { groupID: string; userID?: string; nameCard: string }) {
    return this.changeMember("setGroupMemberNameCard", options, { userID: options?.userID, nameCard: options?.nameCard });
  }

  async setGroupMemberCustomField(options: { groupID: string; userID?: string; memberCustomField: { key: string; value: string }[] }) {
    return this.changeMember("setGroupMemberCustomField", options, { userID: options?.userID, memberCustomField: options?.memberCustomField });
  }

  /** How the user is told about the group's messages: TYPES.MSG_REMIND_*. */
  async setMessageRemindType(options: { groupID: string; messageRemindType: string }) {
    return this.changeMember("setMessageRemindType", options, { messageRemindType: options?.messageRemindType });
  }

  /** Pending requests to join the groups the user manages (or one group's, with `groupID`). */
  async getGroupApplicationList(options?: { groupID?: string }): Promise<Ok<{ applicationList: GroupApplication[] }>> {
    const groups = options?.groupID ? [{ groupID: options.groupID, name: "" }] : (await this.getGroupList()).data.groupList;
    const applicationList: GroupApplication[] = [];
    for (const group of groups) {
      // Groups the user does not manage answer 10007: they have nothing for the user to handle.
      const answer = await this.host.call<{ applications: { userId: string; kind: string; message: string; at: number }[] }>("getGroupApplicationList", { groupID: group.groupID }).catch((error: ChatError) => {
        if (options?.groupID) throw error;
        return { applications: [] };
      });
      for (const a of answer.applications) {
        applicationList.push({ groupID: group.groupID, groupName: group.name, applicant: a.userId, applicantNick: "", applicationType: a.kind === "apply" ? 0 : 2, note: a.message, time: a.at });
      }
    }
    const people = await this.host.people(applicationList.map((a) => a.applicant));
    for (const a of applicationList) a.applicantNick = people.get(a.applicant)?.nick ?? "";
    return ok({ applicationList });
  }

  /**
   * Approves or refuses a request: `application` from getGroupApplicationList,
   * or `message`, the join request's system notice.
   */
  async handleGroupApplication(options: { handleAction: "Agree" | "Reject"; handleMessage?: string; application?: { groupID: string; applicant: string }; message?: Message }): Promise<Ok<{ group: { groupID: string } }>> {
    const notice = options?.message?.payload as { groupProfile?: { groupID: string }; operatorID?: string } | undefined;
    const groupID = options?.application?.groupID ?? notice?.groupProfile?.groupID;
    const applicant = options?.application?.applicant ?? notice?.operatorID;
    if (!groupID || !applicant || (options.handleAction !== "Agree" && options.handleAction !== "Reject")) {
      throw new ChatError(SdkErrorCode.invalidParameter, "handleGroupApplication() needs handleAction (Agree or Reject) and the application or its notice message");
    }
    await this.host.call("handleGroupApplication", { groupID, applicant, handleAction: options.handleAction, handleMessage: options.handleMessage });
    return ok({ group: { groupID } });
  }

  private async changeMember(op: string, options: { groupID: string }, data: Record<string, unknown>): Promise<Ok<{ group: { groupID: string }; member: { userID: string } }>> {
    const groupID = needGroupID(options?.groupID, op);
    await this.host.call(op, { groupID, ...data });
    return ok({ group: { groupID }, member: { userID: (data.userID as string | undefined) ?? this.host.me() } });
  }

  private async members(stored: StoredMember[]): Promise<GroupMember[]> {
    const people = await this.host.people(stored.map((m) => m.userId));
    return stored.map((m) => ({
      userID: m.userId,
      nick: people.get(m.userId)?.nick ?? "",
      avatar: people.get(m.userId)?.avatar ?? "",
      role: m.role,
      joinTime: m.joinTime,
      nameCard: m.nameCard,
      muteUntil: m.muteUntil,
      memberCustomField: m.appMemberDefinedData,
    }));
  }
}
