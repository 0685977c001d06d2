/**
 * The web chat page's sign-in helper: mints a UserSig for the default app so
 * the page works without an app backend. It answers only when IM_DEMO is
 * "true", which `npm run dev` sets for the local server; a deployed Worker
 * never sets it, and the helper is then absent (404).
 */
import { Hono } from "hono";
import { z } from "zod";
import { UserId } from "../domain/account.ts";
import { generateUserSig } from "../domain/usersig.ts";
import type { Env } from "../env.ts";
import { importAccounts } from "../store/accounts.ts";

export const demoDoor = new Hono<{ Bindings: Env }>();

const SessionRequest = z.object({ userID: UserId });

demoDoor.post("/demo/session", async (c) => {
  if (c.env.IM_DEMO !== "true" || !c.env.IM_SECRET_KEY) return c.json({ error: "not found" }, 404);
  const body = SessionRequest.safeParse(await c.req.json().catch(() => null));
  if (!body.success) return c.json({ code: 6017, message: "userID must be 1–32 letters, digits, '_' or '-'" }, 400);
  const sdkAppId = Number(c.env.IM_SDKAPPID);
  await importAccounts(c.env.DB, sdkAppId, [{ userId: body.data.userID }]);
  const userSig = await generateUserSig({ sdkAppId, secretKey: c.env.IM_SECRET_KEY, identifier: body.data.userID, expireSeconds: 86_400 });
  return c.json({ SDKAppID: sdkAppId, userID: body.data.userID, userSig });
});
