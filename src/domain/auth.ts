/** Who may act for an app: the checks shared by the REST door's admins and WebSocket logins. */
import type { App } from "./app.ts";
import { ErrorCode, ImError } from "./errors.ts";
import { verifyUserSig } from "./usersig.ts";

export interface Credentials {
  sdkAppId: number;
  identifier: string;
  userSig: string;
}

/** The app is active and has a key, and the UserSig is valid for it. Resolves with when the UserSig expires (unix seconds). */
export async function checkCredentials(app: App, { sdkAppId, identifier, userSig }: Credentials, now = Math.floor(Date.now() / 1000)): Promise<number> {
  if (app.status === "disabled") throw new ImError(ErrorCode.appDisabled, `app ${sdkAppId} is disabled`);
  if (!app.secretKey && !app.publicKey) {
    throw new ImError(ErrorCode.sdkAppIdInvalid, `app ${sdkAppId} has no secret key; set IM_SECRET_KEY (wrangler secret put IM_SECRET_KEY)`);
  }
  const claims = await verifyUserSig(userSig, { sdkAppId, identifier, secretKey: app.secretKey, publicKey: app.publicKey, now });
  return claims.time + claims.expire;
}
