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
  // internal
  internal: 70500,
} as const;
