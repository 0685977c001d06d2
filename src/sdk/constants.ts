/** Event names and constants, with the same names and string values as @tencentcloud/chat. */

export const EVENT = {
  SDK_READY: "sdkStateReady",
  SDK_NOT_READY: "sdkStateNotReady",
  MESSAGE_RECEIVED: "onMessageReceived",
  MESSAGE_MODIFIED: "onMessageModified",
  MESSAGE_REVOKED: "onMessageRevoked",
  MESSAGE_READ_BY_PEER: "onMessageReadByPeer",
  MESSAGE_READ_RECEIPT_RECEIVED: "onMessageReadReceiptReceived",
  CONVERSATION_LIST_UPDATED: "onConversationListUpdated",
  TOTAL_UNREAD_MESSAGE_COUNT_UPDATED: "onTotalUnreadMessageCountUpdated",
  GROUP_LIST_UPDATED: "onGroupListUpdated",
  GROUP_ATTRIBUTES_UPDATED: "groupAttributesUpdated",
  GROUP_COUNTER_UPDATED: "onGroupCounterUpdated",
  TOPIC_CREATED: "onTopicCreated",
  TOPIC_DELETED: "onTopicDeleted",
  TOPIC_UPDATED: "onTopicUpdated",
  PROFILE_UPDATED: "onProfileUpdated",
  USER_STATUS_UPDATED: "onUserStatusUpdated",
  BLACKLIST_UPDATED: "blacklistUpdated",
  FRIEND_LIST_UPDATED: "onFriendListUpdated",
  FRIEND_GROUP_LIST_UPDATED: "onFriendGroupListUpdated",
  FRIEND_APPLICATION_LIST_UPDATED: "onFriendApplicationListUpdated",
  KICKED_OUT: "kickedOut",
  ERROR: "error",
  NET_STATE_CHANGE: "netStateChange",
} as const;

export type EventName = (typeof EVENT)[keyof typeof EVENT];

export const TYPES = {
  MSG_TEXT: "TIMTextElem",
  MSG_IMAGE: "TIMImageElem",
  MSG_AUDIO: "TIMSoundElem",
  MSG_FILE: "TIMFileElem",
  MSG_FACE: "TIMFaceElem",
  MSG_VIDEO: "TIMVideoFileElem",
  MSG_LOCATION: "TIMLocationElem",
  MSG_CUSTOM: "TIMCustomElem",
  MSG_MERGER: "TIMRelayElem",
  MSG_GRP_TIP: "TIMGroupTipElem",
  MSG_GRP_SYS_NOTICE: "TIMGroupSystemNoticeElem",
  /** In a createTextAtMessage `atUserList`: everyone in the group. */
  MSG_AT_ALL: "__kImSDK_MesssageAtALL__",
  MSG_PRIORITY_HIGH: "High",
  MSG_PRIORITY_NORMAL: "Normal",
  MSG_PRIORITY_LOW: "Low",
  MSG_PRIORITY_LOWEST: "Lowest",
  MSG_REMIND_ACPT_AND_NOTE: "AcceptAndNotify",
  MSG_REMIND_ACPT_NOT_NOTE: "AcceptNotNotify",
  MSG_REMIND_DISCARD: "Discard",
  CONV_C2C: "C2C",
  CONV_GROUP: "GROUP",
  CONV_SYSTEM: "@TIM#SYSTEM",
  /** A conversation's groupAtInfoList `atType`: the user, everyone, or both were mentioned. */
  CONV_AT_ME: 1,
  CONV_AT_ALL: 2,
  CONV_AT_ALL_AT_ME: 3,
  GRP_WORK: "Private",
  GRP_PUBLIC: "Public",
  GRP_MEETING: "ChatRoom",
  GRP_COMMUNITY: "Community",
  GRP_AVCHATROOM: "AVChatRoom",
  GRP_MBR_ROLE_OWNER: "Owner",
  GRP_MBR_ROLE_ADMIN: "Admin",
  GRP_MBR_ROLE_MEMBER: "Member",
  JOIN_OPTIONS_FREE_ACCESS: "FreeAccess",
  JOIN_OPTIONS_NEED_PERMISSION: "NeedPermission",
  JOIN_OPTIONS_DISABLE_APPLY: "DisableApply",
  JOIN_STATUS_SUCCESS: "JoinedSuccess",
  JOIN_STATUS_WAIT_APPROVAL: "WaitAdminApproval",
  JOIN_STATUS_ALREADY_IN_GROUP: "AlreadyInGroup",
  GRP_TIP_MBR_JOIN: 1,
  GRP_TIP_MBR_QUIT: 2,
  GRP_TIP_MBR_KICKED_OUT: 3,
  GRP_TIP_MBR_SET_ADMIN: 4,
  GRP_TIP_MBR_CANCELED_ADMIN: 5,
  GRP_TIP_GRP_PROFILE_UPDATED: 6,
  GRP_TIP_MBR_PROFILE_UPDATED: 7,
  /** Live rooms (AVChatRoom): viewers banned, and unbanned. */
  GRP_TIP_BAN_AVCHATROOM_MEMBER: 10,
  GRP_TIP_UNBAN_AVCHATROOM_MEMBER: 11,
  GENDER_UNKNOWN: "Gender_Type_Unknown",
  GENDER_FEMALE: "Gender_Type_Female",
  GENDER_MALE: "Gender_Type_Male",
  KICKED_OUT_MULT_ACCOUNT: "multipleAccount",
  KICKED_OUT_MULT_DEVICE: "multipleDevice",
  KICKED_OUT_USERSIG_EXPIRED: "userSigExpired",
  KICKED_OUT_REST_API: "REST_API_Kick",
  ALLOW_TYPE_ALLOW_ANY: "AllowType_Type_AllowAny",
  ALLOW_TYPE_NEED_CONFIRM: "AllowType_Type_NeedConfirm",
  ALLOW_TYPE_DENY_ANY: "AllowType_Type_DenyAny",
  FORBID_TYPE_NONE: "AdminForbid_Type_None",
  FORBID_TYPE_SEND_OUT: "AdminForbid_Type_SendOut",
  SNS_ADD_TYPE_SINGLE: "Add_Type_Single",
  SNS_ADD_TYPE_BOTH: "Add_Type_Both",
  SNS_DELETE_TYPE_SINGLE: "Delete_Type_Single",
  SNS_DELETE_TYPE_BOTH: "Delete_Type_Both",
  SNS_APPLICATION_SENT_TO_ME: "Pendency_Type_ComeIn",
  SNS_APPLICATION_SENT_BY_ME: "Pendency_Type_SendOut",
  SNS_APPLICATION_AGREE: "Response_Action_Agree",
  SNS_APPLICATION_AGREE_AND_ADD: "Response_Action_AgreeAndAdd",
  SNS_CHECK_TYPE_BOTH: "CheckResult_Type_Both",
  SNS_CHECK_TYPE_SINGLE: "CheckResult_Type_Single",
  SNS_TYPE_NO_RELATION: "CheckResult_Type_NoRelation",
  SNS_TYPE_A_WITH_B: "CheckResult_Type_AWithB",
  SNS_TYPE_B_WITH_A: "CheckResult_Type_BWithA",
  SNS_TYPE_BOTH_WAY: "CheckResult_Type_BothWay",
  NET_STATE_CONNECTED: "connected",
  NET_STATE_CONNECTING: "connecting",
  NET_STATE_DISCONNECTED: "disconnected",
} as const;

/** Error codes the SDK raises itself (the server's codes pass through unchanged). */
export const SdkErrorCode = {
  /** A call before login, or after logout. */
  notLoggedIn: 6014,
  /** Missing or wrong options. */
  invalidParameter: 6017,
  /** The connection is down and did not come back in time. */
  networkError: 2800,
  /** The server did not answer in time. */
  timeout: 2801,
} as const;

export class ChatError extends Error {
  readonly code: number;
  readonly data?: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = "ChatError";
    this.code = code;
    this.data = data;
  }
}
