/**
 * Checking the keys the console is signed in with (the deployment's console key, an app's secret
 * key), each try first admitted by the caller's SignInGuard, so wrong keys slow their sender down.
 */
import { appActor, signInGuard } from "../actors/refs.ts";
import type { AppView } from "../domain/app.ts";
import { guardedAddress, sameSecret } from "../domain/console.ts";
import { ErrorCode, ImError } from "../domain/errors.ts";
import type { Env } from "../env.ts";

/** The caller's address as Cloudflare sees it (absent locally without a proxy), an IPv6 one by its /64. */
export function clientAddress(request: Request): string {
  const address = request.headers.get("cf-connecting-ip");
  return address ? guardedAddress(address) : "local";
}

async function guarded<T>(env: Env, subject: string, check: () => Promise<T>): Promise<T> {
  const guard = signInGuard(env, subject);
  const admitted = await guard.admit();
  if (!admitted.ok) {
    const seconds = Math.ceil(admitted.waitMs / 1000);
    throw new ImError(ErrorCode.restRateLimited, `too many wrong keys from this address: try again in ${seconds} s`);
  }
  const result = await check();
  await guard.succeeded();
  return result;
}

/** Resolves when `presented` is the deployment's console key; fails with a clear reason otherwise. */
export async function checkConsoleKey(env: Env, presented: string, address: string): Promise<void> {
  if (!env.IM_CONSOLE_KEY) {
    throw new ImError(ErrorCode.notAppAdmin, "this deployment has no console key (IM_CONSOLE_KEY): only app operators can sign in");
  }
  await guarded(env, `console:${address}`, async () => {
    if (!sameSecret(env.IM_CONSOLE_KEY!, presented)) throw new ImError(ErrorCode.userSigVerifyFailed, "the console key is wrong");
    return true;
  });
}

/** The app, when `secretKey` is its key and it is active. */
export async function checkAppKey(env: Env, sdkAppId: number, secretKey: string, address: string): Promise<AppView> {
  return guarded(env, `app:${sdkAppId}:${address}`, async () => {
    const grant = await appActor(env, sdkAppId).checkSecretKey(sdkAppId, secretKey);
    if (!grant.ok) throw new ImError(grant.code, grant.info);
    return grant.app;
  });
}
