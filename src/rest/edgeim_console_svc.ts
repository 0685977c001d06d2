/**
 * edgeim_console_svc: the deployment operator's commands, outside Tencent's names. They act on the
 * deployment, not on one app, so they are authorised by the console key (`Authorization: Bearer
 * <IM_CONSOLE_KEY>`) instead of an app's UserSig; the console calls them with its session.
 */
import { z } from "zod";
import { UserId } from "../domain/account.ts";
import { SdkAppId } from "../domain/app.ts";
import { ErrorCode, ImError } from "../domain/errors.ts";
import { appActor } from "../actors/refs.ts";
import { createApp, listApps } from "../store/apps.ts";
import { deploymentCommand } from "./command.ts";

const paramErrorCode = ErrorCode.jsonParse;

export const listAppsCommand = deploymentCommand({
  body: z.object({
    Offset: z.number().int().min(0).default(0),
    Limit: z.number().int().min(1).max(100).default(50),
  }),
  paramErrorCode,
  async handle({ env }, body) {
    // The default app's row is made when it is first loaded: load it so it is listed from the start.
    const defaultAppId = Number(env.IM_SDKAPPID);
    await appActor(env, defaultAppId).describe(defaultAppId);
    const { apps, total } = await listApps(env.DB, body.Offset, body.Limit);
    return {
      TotalCount: total,
      Apps: apps.map((app) => ({
        SdkAppId: app.sdkAppId,
        Name: app.name,
        Admins: app.admins,
        Status: app.status === "active" ? "Active" : "Disabled",
        CreateTime: Math.floor(app.createdAt / 1000),
        IsDefault: app.sdkAppId === defaultAppId,
      })),
    };
  },
});

export const createAppCommand = deploymentCommand({
  body: z.object({
    Name: z.string().max(64).default(""),
    /** The app's admin identifiers; "administrator" when none are given. */
    Admins: z.array(UserId).min(1).max(10).optional(),
    /** A SDKAppID of the operator's choice; one is drawn from 14xxxxxxxx otherwise. */
    SdkAppId: SdkAppId.optional(),
  }),
  paramErrorCode,
  async handle({ env }, body) {
    if (body.SdkAppId !== undefined && (String(body.SdkAppId) === env.IM_SDKAPPID || (await appActor(env, body.SdkAppId).describe(body.SdkAppId)))) {
      throw new ImError(paramErrorCode, `SdkAppId: app ${body.SdkAppId} already exists`);
    }
    const app = await createApp(env.DB, { sdkAppId: body.SdkAppId, name: body.Name, admins: body.Admins ?? ["administrator"] });
    // The new app's actor may have remembered that it did not exist (for 2 s): it reads it afresh.
    await appActor(env, app.sdkAppId).forget();
    return { SdkAppId: app.sdkAppId, Name: app.name, Admins: app.admins, SecretKey: app.secretKey };
  },
});

export const edgeimConsoleSvc = { list_apps: listAppsCommand, create_app: createAppCommand };
