/**
 * One error type for the whole server: a Tencent IM error code and a message.
 * Doors turn it into their own envelope (REST: ActionStatus/ErrorCode/ErrorInfo).
 */
export class ImError extends Error {
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.name = "ImError";
    this.code = code;
  }
}

/** Tencent IM error codes used by edge-im, named in the domain's words. */
export const ErrorCode = {
  ok: 0,
  // REST door
  httpParse: 60002,
  jsonParse: 60003,
  badAccountInUrl: 60004,
  badUserSigInUrl: 60005,
  sdkAppIdInvalid: 60006,
  restRateLimited: 60007,
  serviceTimeout: 60008,
  badUrl: 60009,
  notAppAdmin: 60010,
  sdkAppIdMissing: 60012,
  accountNotString: 60015,
  appDisabled: 60016,
  // UserSig
  userSigExpired: 70001,
  userSigEmpty: 70002,
  userSigInvalid: 70003,
  userSigVerifyFailed: 70009,
  userSigIdentifierMismatch: 70013,
  userSigSdkAppIdMismatch: 70014,
  accountNotFound: 70107,
  accountParamInvalid: 70402,
  // messages
  messageJsonInvalid: 90001,
  msgBodyInvalid: 90002,
  toAccountInvalid: 90003,
  msgRandomInvalid: 90005,
  tooManyRecipients: 90011,
  toAccountNotFound: 90012,
  msgLifeTimeInvalid: 90026,
  messageTooLarge: 93000,
  fromAccountInvalid: 90008,
  msgKeyInvalid: 90054,
  messageServiceInternal: 91000,
  senderBlocked: 20007,
  recallWindowPassed: 20016,
  messageNotFound: 20022,
  messageAlreadyRecalled: 20023,
  // conversations
  invalidConversationParam: 50001,
  // access service (WebSocket door), in the client SDK's code space
  notLoggedIn: 6014,
  invalidParameter: 6017,
} as const;

/** An answer that crosses RPC: errors thrown across Durable Object calls lose their code, values do not. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: number; info: string };

export async function capture<T>(work: () => Promise<T> | T): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    if (error instanceof ImError) return { ok: false, code: error.code, info: error.message };
    throw error;
  }
}

export function unwrap<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new ImError(outcome.code, outcome.info);
  return outcome.value;
}
