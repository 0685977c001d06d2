/**
 * A Community group's topics: creation (under the app's id or a generated
 * one), profiles, changes and destruction, each told to every member. Other
 * parts (topic messages) ask `topicOf` whether a topic exists.
 */
import { GroupErrorCode, groupError } from "../../domain/group.ts";
import {
  checkCustomTopicId,
  checkTopicChanges,
  decideTopicManagement,
  decideTopicRead,
  decideTopicsEnabled,
  generatedTopicIdRandomBytes,
  generateTopicId,
  maxTopicsPerCommunity,
  type TopicChanges,
  type TopicProfile,
} from "../../domain/groupTopics.ts";
import type { GroupCaller, GroupHost } from "./host.ts";

export interface CreateTopicInput extends Omit<TopicChanges, "muteAllMember" | "name"> {
  name: string;
  /** The app's own id (`{GroupId}@TOPIC#_…`); generated when absent. */
  topicId?: string;
}

/** One topic's answer in a batch: its profile, or why not (per-topic ErrorCode). */
export type TopicResult = { topicId: string; topic: TopicProfile; code?: never } | { topicId: string; topic?: never; code: number; info: string };

/** A member's standing in the community, as topics report it (SelfInfo). */
export interface TopicSelfInfo {
  muteUntil: number;
  msgFlag: string;
}

export class GroupTopics {
  private readonly host: GroupHost;

  constructor(host: GroupHost) {
    this.host = host;
  }

  create(caller: GroupCaller, input: CreateTopicInput): { topicId: string } {
    decideTopicsEnabled(this.host.profile());
    decideTopicManagement(this.host.actorOf(caller).actor);
    const fields = checkTopicChanges({ ...input, name: input.name });
    let topicId: string;
    if (input.topicId !== undefined) {
      checkCustomTopicId(this.host.groupId, input.topicId);
      if (this.host.store.topic(input.topicId)?.destroyed === false) throw groupError(GroupErrorCode.groupIdTaken, `topic id ${input.topicId} is already used`);
      topicId = input.topicId;
    } else {
      // A generated id is never one a destroyed topic had.
      do {
        topicId = generateTopicId(this.host.groupId, crypto.getRandomValues(new Uint8Array(generatedTopicIdRandomBytes)));
      } while (this.host.store.topic(topicId));
    }
    if (this.host.store.topicCount() >= maxTopicsPerCommunity) {
      throw groupError(GroupErrorCode.invalidParameter, `a community holds at most ${maxTopicsPerCommunity} topics`);
    }
    const topic: TopicProfile = {
      topicId,
      name: input.name,
      faceUrl: fields.faceUrl ?? "",
      notification: fields.notification ?? "",
      introduction: fields.introduction ?? "",
      customString: fields.customString ?? "",
      muteAllMember: false,
      createTime: Math.floor(Date.now() / 1000),
      nextMsgSeq: 1,
      lastMsgTime: 0,
    };
    this.host.store.putTopic(topic);
    this.host.publish({ kind: "topicCreated", groupId: this.host.groupId, topic }, this.host.store.allMemberIds());
    return { topicId };
  }

  /** These topics (all when `topicIds` is empty or absent), each with its own result. */
  read(caller: GroupCaller, topicIds?: string[]): { topics: TopicResult[]; self?: TopicSelfInfo } {
    decideTopicsEnabled(this.host.profile());
    const { actor, member } = this.host.actorOf(caller);
    decideTopicRead(actor);
    const topics: TopicResult[] =
      topicIds && topicIds.length > 0
        ? topicIds.map((topicId) => {
            const topic = this.host.store.topic(topicId);
            if (!topic || topic.destroyed) return { topicId, code: GroupErrorCode.groupNotFound, info: `topic ${topicId} does not exist` };
            const { destroyed: _destroyed, ...profile } = topic;
            return { topicId, topic: profile };
          })
        : this.host.store.topics().map((topic) => ({ topicId: topic.topicId, topic }));
    return { topics, ...(member ? { self: { muteUntil: member.muteUntil, msgFlag: member.msgFlag } } : {}) };
  }

  modify(caller: GroupCaller, topicId: string, changes: TopicChanges): TopicProfile {
    decideTopicsEnabled(this.host.profile());
    decideTopicManagement(this.host.actorOf(caller).actor);
    const checked = checkTopicChanges(changes);
    const current = this.topicOf(topicId);
    const next: TopicProfile = { ...current };
    for (const [field, value] of Object.entries(checked) as [keyof TopicChanges, string | boolean | undefined][]) {
      if (value !== undefined) (next as unknown as Record<string, unknown>)[field] = value;
    }
    this.host.store.putTopic(next);
    this.host.publish({ kind: "topicUpdated", groupId: this.host.groupId, topic: next }, this.host.store.allMemberIds());
    return next;
  }

  /** Destroys topics, each with its own result: 10010 for an unknown one, 110003 for one already destroyed. */
  destroy(caller: GroupCaller, topicIds: string[]): { topicId: string; code: number; info: string }[] {
    decideTopicsEnabled(this.host.profile());
    decideTopicManagement(this.host.actorOf(caller).actor);
    const results = topicIds.map((topicId) => {
      const topic = this.host.store.topic(topicId);
      if (!topic) return { topicId, code: GroupErrorCode.groupNotFound, info: `topic ${topicId} does not exist` };
      if (topic.destroyed) return { topicId, code: GroupErrorCode.topicAlreadyDeleted, info: `topic ${topicId} was already destroyed` };
      this.host.store.markTopicDestroyed(topicId);
      return { topicId, code: 0, info: "" };
    });
    const destroyed = results.filter((r) => r.code === 0).map((r) => r.topicId);
    if (destroyed.length > 0) this.host.publish({ kind: "topicDeleted", groupId: this.host.groupId, topicIds: destroyed }, this.host.store.allMemberIds());
    return results;
  }

  /** The live topic `topicId` of this community: 11000 without topics, 10010 for no such topic. */
  topicOf(topicId: string): TopicProfile {
    decideTopicsEnabled(this.host.profile());
    const topic = this.host.store.topic(topicId);
    if (!topic || topic.destroyed) throw groupError(GroupErrorCode.groupNotFound, `topic ${topicId} does not exist`);
    const { destroyed: _destroyed, ...profile } = topic;
    return profile;
  }
}
