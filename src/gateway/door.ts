/**
 * The WebSocket door: GET /v1/connect?sdkappid=&userid=&platform=&device=
 * upgrades to a connection held by the user's actor. The first frame must be
 * the login op carrying the UserSig (docs/PROTOCOL.md).
 */
import { Hono } from "hono";
import { userActor } from "../actors/refs.ts";
import { ErrorCode } from "../domain/errors.ts";
import { ConnectQuery } from "../domain/protocol.ts";
import type { Env } from "../env.ts";

export const gatewayDoor = new Hono<{ Bindings: Env }>();

gatewayDoor.get("/v1/connect", async (c) => {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    return c.json({ code: ErrorCode.invalidParameter, message: "connect with a WebSocket" }, 426);
  }
  const query = ConnectQuery.safeParse(Object.fromEntries(new URL(c.req.url).searchParams));
  if (!query.success) {
    const issue = query.error.issues[0]!;
    return c.json({ code: ErrorCode.invalidParameter, message: `${issue.path.join(".")}: ${issue.message}` }, 400);
  }
  return userActor(c.env, { sdkAppId: query.data.sdkappid, userId: query.data.userid }).fetch(c.req.raw);
});
