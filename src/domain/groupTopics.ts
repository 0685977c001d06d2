/**
 * Community topics: the channels of a Community group created with
 * SupportTopic. Each topic has its own profile; its members are the
 * community's. Topic ids are `{GroupId}@TOPIC#_{suffix}`, the suffix the
 * app's own or generated here. Who may manage and read topics is decided here.
 */
import { z } from "zod";
import { utf8Length } from "./account.ts";
import { GroupErrorCode, groupError, GroupFaceUrl, GroupIntroduction, GroupName, GroupNotification, groupFieldLimits, topicIdSeparator, type GroupProfile } from "./group.ts";
import { isManager, type Actor } from "./groupRules.ts";

export interface TopicProfile {
  topicId: string;
  name: string;
  faceUrl: string;
  notification: string;
  introduction: string;
  customString: string;
  muteAllMember: boolean;
  /** Unix seconds. */
  createTime: number;
  /** The topic's next message sequence (1 before its first message). */
  nextMsgSeq: number;
  /** Unix seconds of the topic's last message; 0 before the first. */
  lastMsgTime: number;
}

/** Topic names, face URLs, notices and introductions have the group fields' byte limits (Tencent's create_topic). */
export const TopicName = GroupName;
export const TopicFaceUrl = GroupFaceUrl;
export const TopicNotification = GroupNotification;
export const TopicIntroduction = GroupIntroduction;
export const TopicCustomString = z
  .string({ error: "must be a string" })
  .refine((s) => utf8Length(s) <= groupFieldLimits.topicCustomStringBytes, `must be at most ${groupFieldLimits.topicCustomStringBytes} bytes`);

/** Fields a topic's creator or manager may set. */
export const TopicChanges = z.object({
  name: TopicName.optional(),
  faceUrl: TopicFaceUrl.optional(),
  notification: TopicNotification.optional(),
  introduction: TopicIntroduction.optional(),
  customString: TopicCustomString.optional(),
  muteAllMember: z.boolean().optional(),
});
export type TopicChanges = z.infer<typeof TopicChanges>;

/** How many live topics one community may hold (a bound on storage and on get_topic's answer; Tencent's own figure is unverified). */
export const maxTopicsPerCommunity = 1_000;
/** The longest suffix after `@TOPIC#_` an app may choose, like a custom group id. */
export const maxTopicIdSuffixBytes = 48;

const printableAscii = /^[\x20-\x7e]+$/;
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
export const generatedTopicIdRandomBytes = 10;

/** Every topic id of `groupId` starts with this. */
export function topicIdPrefix(groupId: string): string {
  return `${groupId}${topicIdSeparator}`;
}

/** A new server-assigned topic id from `random` (at least 10 bytes): `{GroupId}@TOPIC#_XXXXXXXXXX`. */
export function generateTopicId(groupId: string, random: Uint8Array): string {
  if (random.length < generatedTopicIdRandomBytes) throw new RangeError(`generateTopicId needs ${generatedTopicIdRandomBytes} random bytes`);
  let suffix = "";
  for (let i = 0; i < generatedTopicIdRandomBytes; i++) suffix += idAlphabet[random[i]! & 31];
  return `${topicIdPrefix(groupId)}${suffix}`;
}

/** Checks a topic id the app chose: `{GroupId}@TOPIC#_` and 1–48 printable ASCII bytes. Refused with 10004. */
export function checkCustomTopicId(groupId: string, topicId: string): void {
  const prefix = topicIdPrefix(groupId);
  const invalid = (why: string) => groupError(GroupErrorCode.invalidParameter, `TopicId ${why}`);
  if (!topicId.startsWith(prefix)) throw invalid(`must start with ${prefix}`);
  const suffix = topicId.slice(prefix.length);
  if (suffix.length === 0) throw invalid(`needs something after ${topicIdSeparator}`);
  if (!printableAscii.test(suffix)) throw invalid("must be printable ASCII");
  if (suffix.length > maxTopicIdSuffixBytes) throw invalid(`must have at most ${maxTopicIdSuffixBytes} bytes after ${topicIdSeparator}`);
  if (suffix.includes(topicIdSeparator)) throw invalid(`must contain ${topicIdSeparator} once`);
}

/** Topics exist only in Community groups created with SupportTopic (11000 otherwise). */
export function decideTopicsEnabled(profile: Pick<GroupProfile, "type" | "supportTopic">): void {
  if (profile.type !== "Community" || !profile.supportTopic) {
    throw groupError(GroupErrorCode.topicsNotEnabled, "topics are only in Community groups created with SupportTopic");
  }
}

/** The owner, admins and app admins create, change and destroy topics. */
export function decideTopicManagement(actor: Actor): void {
  if (!isManager("Community", actor)) throw groupError(GroupErrorCode.noPermission, "only the community's owner and admins manage its topics");
}

/** Members (and app admins) read the community's topics. */
export function decideTopicRead(actor: Actor): void {
  if (actor === "NotMember") throw groupError(GroupErrorCode.noPermission, "only members see the community's topics");
}

/** Checks topic fields against their limits (10004), as both doors must. */
export function checkTopicChanges(changes: TopicChanges): TopicChanges {
  const parsed = TopicChanges.safeParse(changes);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw groupError(GroupErrorCode.invalidParameter, `topic ${String(issue.path[0] ?? "field")}: ${issue.message}`);
}

/** A topic as @tencentcloud/chat's Topic object names its fields. */
export function clientTopic(topic: TopicProfile) {
  return {
    topicID: topic.topicId,
    topicName: topic.name,
    avatar: topic.faceUrl,
    introduction: topic.introduction,
    notification: topic.notification,
    customData: topic.customString,
    muteAllMembers: topic.muteAllMember,
    createTime: topic.createTime,
    nextMessageSeq: topic.nextMsgSeq,
    lastMessageTime: topic.lastMsgTime,
  };
}
