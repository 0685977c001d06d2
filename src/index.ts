/** Worker entry: mounts the doors and exports the actor classes. */
import { Hono } from "hono";
import type { Env } from "./env.ts";
import { logEvent } from "./ops/log.ts";
import { demoDoor } from "./demo/door.ts";
import { usageDoor } from "./demo/usage.ts";
import { gatewayDoor } from "./gateway/door.ts";
import { restDoor } from "./rest/door.ts";
import { consoleDoor } from "./console/door.ts";

export { AppActor } from "./actors/AppActor.ts";
export { UserActor } from "./actors/UserActor.ts";
export { GroupActor } from "./actors/GroupActor.ts";
export { FanoutHub } from "./actors/FanoutHub.ts";
export { SignInGuard } from "./actors/SignInGuard.ts";
export { LiveShard } from "./actors/LiveShard.ts";

const app = new Hono<{ Bindings: Env }>();

app.get("/", (c) => c.json({ name: "edge-im", rest: "/v4/{service}/{command}", connect: "/v1/connect", demo: "/demo/", console: "/console/" }));
app.route("/", restDoor);
app.route("/", gatewayDoor);
app.route("/", demoDoor);
app.route("/", usageDoor);
app.route("/", consoleDoor);
app.notFound((c) => c.json({ error: "not found" }, 404));
// The REST door answers its own failures in Tencent's envelope; anything else that fails
// (an actor unreachable during an upgrade, say) is a retryable condition, said in JSON.
app.onError((error, c) => {
  logEvent({ event: "worker_error", path: new URL(c.req.url).pathname, message: String(error?.stack ?? error) });
  return c.json({ code: 60008, message: "the service is temporarily unavailable; retry" }, 503);
});

export default app;
