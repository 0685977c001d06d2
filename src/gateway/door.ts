/**
 * The WebSocket door. GET /v1/connect?sdkappid=&userid=&platform=&device=
 * upgrades to the device's connection, held by the user's actor; GET
 * /v1/groups with the same query upgrades to its group connection, held by
 * the fan-out hub the user belongs to, which only receives group events; GET
 * /v1/live upgrades to a live room's connection, held by one of its shards.
 * The first frame of each must be the login op carrying the UserSig
 * (docs/PROTOCOL.md).
 */
import { Hono, type Context } from "hono";
import { appActor, fanoutHub, liveShard, userActor } from "../actors/refs.ts";
import { ErrorCode } from "../domain/errors.ts";
import { hubOf } from "../domain/fanout.ts";
import { GroupErrorCode } from "../domain/group.ts";
import { LiveQuery } from "../domain/liveRoom.ts";
import { ConnectQuery } from "../domain/protocol.ts";
import type { Env } from "../env.ts";
import type { z } from "zod";

export const gatewayDoor = new Hono<{ Bindings: Env }>();

function readQuery(c: Context<{ Bindings: Env }>): { query: z.infer<typeof ConnectQuery> } | { refusal: Response } {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    return { refusal: c.json({ code: ErrorCode.invalidParameter, message: "connect with a WebSocket" }, 426) };
  }
  const query = ConnectQuery.safeParse(Object.fromEntries(new URL(c.req.url).searchParams));
  if (!query.success) {
    const issue = query.error.issues[0]!;
    return { refusal: c.json({ code: ErrorCode.invalidParameter, message: `${issue.path.join(".")}: ${issue.message}` }, 400) };
  }
  return { query: query.data };
}

gatewayDoor.get("/v1/connect", async (c) => {
  const read = readQuery(c);
  if ("refusal" in read) return read.refusal;
  return userActor(c.env, { sdkAppId: read.query.sdkappid, userId: read.query.userid }).fetch(c.req.raw);
});

gatewayDoor.get("/v1/groups", async (c) => {
  const read = readQuery(c);
  if ("refusal" in read) return read.refusal;
  const { sdkappid, userid } = read.query;
  const app = await appActor(c.env, sdkappid).describe(sdkappid);
  if (!app) return c.json({ code: ErrorCode.sdkAppIdInvalid, message: `SDKAppID ${sdkappid} is not an app of this server` }, 403);
  if (app.status === "disabled") return c.json({ code: ErrorCode.appDisabled, message: `app ${sdkappid} is disabled` }, 403);
  return fanoutHub(c.env, sdkappid, hubOf(userid, app.settings.fanoutHubs)).fetch(c.req.raw);
});

/**
 * GET /v1/live?sdkappid=&userid=&groupid=&shard=&ticket=: a viewer's live connection, held by
 * the room's shard the join named (`actors/LiveShard.ts`). The shard checks the ticket at login.
 */
gatewayDoor.get("/v1/live", async (c) => {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") return c.json({ code: ErrorCode.invalidParameter, message: "connect with a WebSocket" }, 426);
  const query = LiveQuery.safeParse(Object.fromEntries(new URL(c.req.url).searchParams));
  if (!query.success) {
    const issue = query.error.issues[0]!;
    return c.json({ code: GroupErrorCode.invalidParameter, message: `${issue.path.join(".")}: ${issue.message}` }, 400);
  }
  const { sdkappid, groupid, shard } = query.data;
  const app = await appActor(c.env, sdkappid).describe(sdkappid);
  if (!app) return c.json({ code: ErrorCode.sdkAppIdInvalid, message: `SDKAppID ${sdkappid} is not an app of this server` }, 403);
  if (app.status === "disabled") return c.json({ code: ErrorCode.appDisabled, message: `app ${sdkappid} is disabled` }, 403);
  return liveShard(c.env, sdkappid, groupid, shard).fetch(c.req.raw);
});
