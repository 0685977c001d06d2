/**
 * `npm run usersig -- <userID> [expireSeconds]`: prints a UserSig for the
 * default app, as configured locally (wrangler.toml, .dev.vars). The
 * environment variables IM_SDKAPPID and IM_SECRET_KEY, when set, take
 * precedence, to sign for a deployed app.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultUserSigExpireSeconds, generateUserSig } from "../src/domain/usersig.ts";
import { readDefaultAppConfig } from "./config.ts";

const [identifier, expire] = process.argv.slice(2);
if (!identifier || (expire !== undefined && !/^\d+$/.test(expire))) {
  console.error("usage: npm run usersig -- <userID> [expireSeconds]");
  process.exit(2);
}
const local = readDefaultAppConfig(join(dirname(fileURLToPath(import.meta.url)), ".."));
const app = {
  sdkAppId: process.env.IM_SDKAPPID ? Number(process.env.IM_SDKAPPID) : local.sdkAppId,
  secretKey: process.env.IM_SECRET_KEY || local.secretKey,
};
if (!Number.isSafeInteger(app.sdkAppId) || app.sdkAppId <= 0) {
  console.error(`IM_SDKAPPID is not a SDKAppID: ${process.env.IM_SDKAPPID}`);
  process.exit(2);
}
if (!app.secretKey) {
  console.error("IM_SECRET_KEY is not set: run `npm run dev` once (it creates .dev.vars) or export IM_SECRET_KEY");
  process.exit(1);
}
const expireSeconds = expire === undefined ? defaultUserSigExpireSeconds : Number(expire);
console.log(await generateUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier, expireSeconds }));
