/** million_group_open_http_svc: Community topics (create_topic, get_topic, modify_topic, destroy_topic). */
import { z } from "zod";
import type { GroupCaller } from "../actors/group/host.ts";
import { UserId } from "../domain/account.ts";
import { unwrap } from "../domain/errors.ts";
import { GroupErrorCode } from "../domain/group.ts";
import { maxTopicsPerCommunity, TopicCustomString, TopicFaceUrl, TopicIntroduction, TopicName, TopicNotification, type TopicProfile } from "../domain/groupTopics.ts";
import { optional, withEarlierNames } from "../domain/wire.ts";
import { command } from "./command.ts";
import { GroupIdField, groupOf } from "./group_attr_commands.ts";

const paramErrorCode = GroupErrorCode.invalidParameter;
const TopicIdList = z.array(z.string({ error: "must be a string" })).max(maxTopicsPerCommunity, `at most ${maxTopicsPerCommunity} topics`);

/** REST acts with the app admin's authority; From_Account names the user on whose behalf. */
const callerFor = (fromAccount: string | undefined): GroupCaller => ({ ...(fromAccount ? { userId: fromAccount } : {}), appAdmin: true });

function topicInfo(groupId: string, topic: TopicProfile): Record<string, unknown> {
  return {
    TopicName: topic.name,
    GroupID: groupId,
    FaceUrl: topic.faceUrl,
    TopicId: topic.topicId,
    NextMsgSeq: topic.nextMsgSeq,
    Notification: topic.notification,
    Introduction: topic.introduction,
    CreateTime: topic.createTime,
    LastMsgTime: topic.lastMsgTime,
    ShutUpAllFlag: topic.muteAllMember ? 1 : 0,
    CustomString: topic.customString,
  };
}

export const createTopic = command({
  body: z.object({
    GroupId: GroupIdField,
    TopicName,
    TopicId: optional(z.string()),
    From_Account: optional(UserId),
    CustomString: optional(TopicCustomString),
    FaceUrl: optional(TopicFaceUrl),
    Notification: optional(TopicNotification),
    Introduction: optional(TopicIntroduction),
  }),
  paramErrorCode,
  async handle(ctx, body) {
    const created = unwrap(
      await groupOf(ctx, body.GroupId).createTopic(callerFor(body.From_Account), {
        name: body.TopicName,
        ...(body.TopicId !== undefined ? { topicId: body.TopicId } : {}),
        ...(body.CustomString !== undefined ? { customString: body.CustomString } : {}),
        ...(body.FaceUrl !== undefined ? { faceUrl: body.FaceUrl } : {}),
        ...(body.Notification !== undefined ? { notification: body.Notification } : {}),
        ...(body.Introduction !== undefined ? { introduction: body.Introduction } : {}),
      }),
    );
    return { TopicId: created.topicId };
  },
});

export const getTopic = command({
  body: z.object({
    GroupId: GroupIdField,
    From_Account: optional(UserId),
    TopicIdList: optional(TopicIdList),
    ResponseFilter: optional(z.array(z.string({ error: "must be a string" })).max(20)),
  }),
  paramErrorCode,
  async handle(ctx, body) {
    const { topics, self } = unwrap(await groupOf(ctx, body.GroupId).readTopics(callerFor(body.From_Account), body.TopicIdList));
    const filter = body.ResponseFilter && body.ResponseFilter.length > 0 ? new Set([...body.ResponseFilter, "TopicId"]) : undefined;
    const shown = (info: Record<string, unknown>) => (filter ? Object.fromEntries(Object.entries(info).filter(([field]) => filter.has(field))) : info);
    // SelfInfo.MsgSeq is a per-topic read point, which topics do not keep: it stays 0.
    const selfInfo = self ? { SelfInfo: { ShutUpTime: self.muteUntil, MsgSeq: 0, MsgFlag: self.msgFlag } } : {};
    return {
      TopicAndSelfInfo: topics.map((t) =>
        t.topic
          ? { ErrorCode: 0, ErrorInfo: "", TopicInfo: shown(topicInfo(body.GroupId, t.topic)), ...selfInfo }
          : { ErrorCode: t.code, ErrorInfo: t.info, TopicInfo: { TopicId: t.topicId } },
      ),
    };
  },
});

export const modifyTopic = command({
  body: withEarlierNames(
    { ShutUpAllMember: "MuteAllMember" },
    z.object({
      GroupId: GroupIdField,
      TopicId: z.string({ error: "must be a string" }),
      From_Account: optional(UserId),
      TopicName: optional(TopicName),
      // "" clears these fields, as it does the group's own.
      CustomString: TopicCustomString.optional(),
      FaceUrl: TopicFaceUrl.optional(),
      Notification: TopicNotification.optional(),
      Introduction: TopicIntroduction.optional(),
      MuteAllMember: optional(z.enum(["On", "Off"])),
    }),
  ),
  paramErrorCode,
  async handle(ctx, body) {
    unwrap(
      await groupOf(ctx, body.GroupId).modifyTopic(callerFor(body.From_Account), body.TopicId, {
        ...(body.TopicName !== undefined ? { name: body.TopicName } : {}),
        ...(body.CustomString !== undefined ? { customString: body.CustomString } : {}),
        ...(body.FaceUrl !== undefined ? { faceUrl: body.FaceUrl } : {}),
        ...(body.Notification !== undefined ? { notification: body.Notification } : {}),
        ...(body.Introduction !== undefined ? { introduction: body.Introduction } : {}),
        ...(body.MuteAllMember !== undefined ? { muteAllMember: body.MuteAllMember === "On" } : {}),
      }),
    );
    return {};
  },
});

export const destroyTopic = command({
  body: z.object({ GroupId: GroupIdField, TopicIdList: TopicIdList.min(1) }),
  paramErrorCode,
  async handle(ctx, body) {
    const results = unwrap(await groupOf(ctx, body.GroupId).destroyTopics({ appAdmin: true }, body.TopicIdList));
    return { DestroyResultItem: results.map((r) => ({ ErrorCode: r.code, ErrorInfo: r.info, TopicId: r.topicId })) };
  },
});

export const millionGroupOpenHttpSvc = {
  create_topic: createTopic,
  get_topic: getTopic,
  modify_topic: modifyTopic,
  destroy_topic: destroyTopic,
};
