/** Worker entry: mounts the doors and exports the actor classes. */
import { Hono } from "hono";
import type { Env } from "./env.ts";
import { demoDoor } from "./demo/door.ts";
import { gatewayDoor } from "./gateway/door.ts";
import { restDoor } from "./rest/door.ts";

export { AppActor } from "./actors/AppActor.ts";
export { UserActor } from "./actors/UserActor.ts";

const app = new Hono<{ Bindings: Env }>();

app.get("/", (c) => c.json({ name: "edge-im", rest: "/v4/{service}/{command}", connect: "/v1/connect", demo: "/demo/" }));
app.route("/", restDoor);
app.route("/", gatewayDoor);
app.route("/", demoDoor);
app.notFound((c) => c.json({ error: "not found" }, 404));

export default app;
