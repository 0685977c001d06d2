/**
 * edge-im's client SDK. The surface follows @tencentcloud/chat: porting is a
 * change of import and of create() options (see src/sdk/README.md).
 *
 *   import EdgeIMChat from "edge-im/sdk";
 *   const chat = EdgeIMChat.create({ SDKAppID: 1400000000, endpoint: "http://127.0.0.1:8787" });
 */
import { EVENT, TYPES } from "./constants.ts";
import { Chat, type CreateOptions } from "./chat.ts";

export { Chat, type CreateOptions, type EventData, type EventHandler, type EventName, type Friend, type Profile, type Response } from "./chat.ts";
export { ChatError, EVENT, SdkErrorCode, TYPES } from "./constants.ts";
export type { CreateGroupOptions, Group, GroupApplication, GroupMember, UpdateGroupOptions } from "./groups.ts";
export type { Conversation, Message } from "./model.ts";

export function create(options: CreateOptions): Chat {
  return new Chat(options);
}

const EdgeIMChat = { create, EVENT, TYPES };
export default EdgeIMChat;
