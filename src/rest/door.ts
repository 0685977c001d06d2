/**
 * The Tencent-compatible REST door: POST /v4/{service}/{command}?sdkappid=&identifier=&usersig=&random=&contenttype=json.
 * Every answered request is HTTP 200 with ActionStatus/ErrorInfo/ErrorCode.
 */
import { Hono, type Context } from "hono";
import { SdkAppId } from "../domain/app.ts";
import { ErrorCode, ImError } from "../domain/errors.ts";
import { deeperThan, maxJsonDepth } from "../domain/json.ts";
import { checkBody } from "../domain/wire.ts";
import type { Env } from "../env.ts";
import { meteredD1, type D1Usage } from "../ops/d1Meter.ts";
import { logEvent } from "../ops/log.ts";
import type { z } from "zod";
import { checkConsoleKey, clientAddress } from "../console/keys.ts";
import type { Command, DeploymentCommand } from "./command.ts";
import { findCommand, findDeploymentCommand, internalErrorCode } from "./commands.ts";
import { recordRestCall } from "./restLog.ts";

/** Bodies larger than this are refused before parsing. */
const maxBodyBytes = 1024 * 1024;

export const restDoor = new Hono<{ Bindings: Env }>();

// Every path under /v4 is the door's: one that names no command is a bad URL (60009), in the envelope.
restDoor.all("/v4/*", async (c) => {
  const path = new URL(c.req.url).pathname;
  const [service, name] = commandPath(path) ?? ["", ""];
  const commandName = service ? `${service}/${name}` : path.slice("/v4/".length, 104);
  const command = findCommand(service, name);
  const deployment = command ? undefined : findDeploymentCommand(service, name);
  return respond(c, { commandName, service, errorDisplay: command?.errorDisplay }, (log, d1) =>
    deployment ? answerDeployment(c, deployment, log, d1) : answer(c, command, commandName, log, d1),
  );
});

/** Who made a call and for which app, for its log line. */
export interface CallLog {
  app?: number;
  caller?: string;
  /** The AppActor knew the app (an unknown SDKAppID gets no call log of its own). */
  appExists?: boolean;
}

/**
 * Runs one command call and answers it in Tencent's envelope, HTTP 200 whatever happens, with its
 * log line. The console door answers through it too.
 */
export async function respond(
  c: Context<{ Bindings: Env }>,
  call: { commandName: string; service: string; errorDisplay?: boolean; door?: string },
  run: (log: CallLog, d1: D1Usage) => Promise<Record<string, unknown>>,
): Promise<Response> {
  const started = Date.now();
  const log: CallLog = {};
  const d1: D1Usage = { rowsRead: 0, rowsWritten: 0, queries: 0 };
  let code: number = ErrorCode.ok;
  const extra = call.errorDisplay ? { ErrorDisplay: "" } : {};
  try {
    const payload = await run(log, d1);
    return envelope(c, ErrorCode.ok, "", { ...extra, ...payload });
  } catch (error) {
    const failure = asImError(error, call.commandName, internalErrorCode(call.service));
    code = failure.code;
    return envelope(c, failure.code, failure.message, extra);
  } finally {
    const ms = Date.now() - started;
    logEvent({
      event: "rest",
      ...(call.door ? { door: call.door } : {}),
      app: log.app,
      command: call.commandName,
      caller: log.caller,
      code,
      ms,
      d1RowsRead: d1.rowsRead,
      d1RowsWritten: d1.rowsWritten,
    });
    // The app's own call log (edgeim_ops_svc/get_rest_log), after the answer; not for apps that do not exist.
    if (log.app !== undefined && log.appExists) {
      recordRestCall(c.env, log.app, { command: call.commandName, caller: log.caller ?? "", code, at: started, ms }, (p) => c.executionCtx.waitUntil(p));
    }
  }
}

/** A deployment command (edgeim_console_svc): the console key as a bearer token instead of an app's UserSig. */
async function answerDeployment(c: Context<{ Bindings: Env }>, command: DeploymentCommand, log: CallLog, d1: D1Usage): Promise<Record<string, unknown>> {
  if (c.req.method !== "POST") throw new ImError(ErrorCode.httpParse, `use POST, not ${c.req.method}`);
  log.caller = "console";
  const bearer = /^Bearer\s+(\S+)$/.exec(c.req.header("Authorization") ?? "");
  if (!bearer) throw new ImError(ErrorCode.notAppAdmin, "deployment commands need the console key: send the header Authorization: Bearer <IM_CONSOLE_KEY>");
  await checkConsoleKey(c.env, bearer[1]!, clientAddress(c.req.raw));
  const body = await readCommandBody(c.req.raw, command);
  return command.handle({ env: { ...c.env, DB: meteredD1(c.env.DB, d1) }, host: new URL(c.req.url).host, waitUntil: (p) => c.executionCtx.waitUntil(p) }, body);
}

/** Reads and validates a command's body; a bad field answers the service's code, with its path. */
export async function readCommandBody(
  request: Request,
  command: { body: z.ZodType; paramErrorCode: number; fieldErrorCodes?: Record<string, number> },
): Promise<unknown> {
  const body = checkBody(command.body, await readJsonBody(request));
  if (!body.ok) throw new ImError(command.fieldErrorCodes?.[body.field] ?? command.paramErrorCode, body.info);
  return body.data;
}

async function answer(
  c: Context<{ Bindings: Env }>,
  command: Command | undefined,
  commandName: string,
  log: CallLog,
  d1: D1Usage,
): Promise<Record<string, unknown>> {
  if (c.req.method !== "POST") throw new ImError(ErrorCode.httpParse, `use POST, not ${c.req.method}`);
  if (!command) throw new ImError(ErrorCode.badUrl, `no command "${commandName}"; the URL is /v4/{service}/{command}`);
  const query = readQuery(c.req.raw.url);
  log.app = query.sdkAppId;
  log.caller = query.identifier;

  const actor = c.env.APP.get(c.env.APP.idFromName(String(query.sdkAppId)));
  const grant = await actor.authorizeRest(query, commandName);
  log.appExists = grant.ok || grant.code !== ErrorCode.sdkAppIdInvalid;
  if (!grant.ok) throw new ImError(grant.code, grant.info);

  const body = await readCommandBody(c.req.raw, command);
  // The command's own D1 queries are counted for the log line (actors' queries are their own).
  const env = { ...c.env, DB: meteredD1(c.env.DB, d1) };
  return command.handle(
    { env, app: grant.app, caller: query.identifier, host: new URL(c.req.url).host, ...clientIpOf(c.req.raw), waitUntil: (p) => c.executionCtx.waitUntil(p) },
    body,
  );
}

interface RestQuery {
  sdkAppId: number;
  identifier: string;
  userSig: string;
}

/** Reads Tencent's query parameters; names and values are case-sensitive. */
function readQuery(url: string): RestQuery {
  const params = new URL(url).searchParams;
  const sdkappid = params.get("sdkappid");
  if (sdkappid === null || sdkappid === "") throw new ImError(ErrorCode.sdkAppIdMissing, "sdkappid is missing from the URL");
  const sdkAppId = /^\d+$/.test(sdkappid) ? SdkAppId.safeParse(sdkappid) : undefined;
  if (!sdkAppId?.success) throw new ImError(ErrorCode.sdkAppIdInvalid, `sdkappid "${sdkappid}" is not a SDKAppID`);

  const identifier = params.get("identifier");
  if (identifier === null || identifier === "") throw new ImError(ErrorCode.badAccountInUrl, "identifier is missing from the URL");
  const userSig = params.get("usersig");
  if (userSig === null) throw new ImError(ErrorCode.badUserSigInUrl, "usersig is missing from the URL");
  if (userSig === "") throw new ImError(ErrorCode.userSigEmpty, "usersig is empty");

  const random = params.get("random");
  if (random !== null && !(/^\d{1,10}$/.test(random) && Number(random) <= 0xffffffff)) {
    throw new ImError(ErrorCode.httpParse, "random must be a 32-bit unsigned integer");
  }
  const contentType = params.get("contenttype");
  if (contentType !== null && contentType !== "json") throw new ImError(ErrorCode.httpParse, 'contenttype must be "json"');
  return { sdkAppId: sdkAppId.data, identifier, userSig };
}

/** `/v4/{service}/{command}` as [service, command], or undefined for any other path. */
function commandPath(path: string): [string, string] | undefined {
  const match = /^\/v4\/([^/]+)\/([^/]+)$/.exec(path);
  return match ? [match[1]!, match[2]!] : undefined;
}

/** The body as a JSON object, read at most `maxBytes` (1 MiB) far. */
export async function readJsonBody(request: Request, maxBytes = maxBodyBytes): Promise<Record<string, unknown>> {
  const bytes = await readBody(request, maxBytes);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ImError(ErrorCode.jsonParse, "the body is not UTF-8");
  }
  if (text.trim() === "") throw new ImError(ErrorCode.jsonParse, "the body is empty; send {} when there is nothing to send");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new ImError(ErrorCode.jsonParse, `the body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ImError(ErrorCode.jsonParse, "the body must be a JSON object");
  }
  if (deeperThan(body, maxJsonDepth)) throw new ImError(ErrorCode.jsonParse, `the body nests more than ${maxJsonDepth} levels deep`);
  return body as Record<string, unknown>;
}

/**
 * The body's bytes, counted as they arrive: a body without content-length (chunked) is cut off
 * at the limit instead of being read whole first.
 */
async function readBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () => new ImError(ErrorCode.httpParse, `the body is larger than ${maxBytes} bytes`);
  if (Number(request.headers.get("content-length") ?? "0") > maxBytes) throw tooLarge();
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function asImError(error: unknown, commandName: string, internalCode: number): ImError {
  if (error instanceof ImError) return error;
  logEvent({ event: "rest_internal_error", command: commandName, message: String((error as Error)?.stack ?? error) });
  return new ImError(internalCode, "internal error; the request may be retried");
}

function envelope(c: Context, code: number, info: string, payload: Record<string, unknown> = {}): Response {
  return c.json({ ActionStatus: code === ErrorCode.ok ? "OK" : "FAIL", ErrorInfo: info, ErrorCode: code, ...payload });
}

/** The caller's address as the platform gives it (wrangler dev sets it too), for callbacks' ClientIP. */
export function clientIpOf(request: Request): { clientIp?: string } {
  const ip = request.headers.get("CF-Connecting-IP");
  return ip ? { clientIp: ip } : {};
}
