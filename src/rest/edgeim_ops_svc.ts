/**
 * edgeim_ops_svc: edge-im's own operations commands, outside Tencent's names, for the console and
 * for scripts. Like every REST command, only an admin of the app may call them.
 *
 * get_stats: the app's counters per day as numbers (getappinfo's figures, plus the callbacks'
 * outcomes and the users online now), for charts. get_realtime_stats: a few figures per minute for
 * the last minutes, and the users online now. get_rest_log: the app's latest REST calls.
 */
import { z } from "zod";
import { ErrorCode } from "../domain/errors.ts";
import { appInfoFields, appInfoRows, lastDays, minuteFields, minuteOf, minutesKept } from "../domain/stats.ts";
import { optional } from "../domain/wire.ts";
import { appActor } from "../actors/refs.ts";
import { restLogSize } from "../actors/restLog.ts";
import { onlineNow, readMinutes, readStats } from "../store/stats.ts";
import { command } from "./command.ts";

const paramErrorCode = ErrorCode.jsonParse;

/** Counters of edge-im's own beside Tencent's, per day. */
const ownFields = ["CallbackFailed", "CallbackRetried", "CallbackDropped"] as const;

export const getStats = command({
  body: z.object({ Days: optional(z.number().int().min(1).max(30)) }),
  paramErrorCode,
  async handle({ env, app }, body) {
    const days = lastDays(Date.now(), body.Days ?? 30);
    const rows = await readStats(env.DB, app.sdkAppId, days.at(-1)!);
    const numeric = appInfoFields.filter((f) => f !== "AppName" && f !== "AppId" && f !== "Company");
    const tencent = appInfoRows({ sdkAppId: app.sdkAppId, name: app.name }, rows, days, numeric);
    const own = (day: number, field: string) => rows.find((r) => r.day === day && r.field === field)?.value ?? 0;
    return {
      OnlineNum: Math.max(0, rows.find((r) => r.day === 0 && r.field === "OnlineNum")?.value ?? 0),
      Result: tencent.map((row, i) => ({
        ...Object.fromEntries(Object.entries(row).map(([k, v]) => [k, k === "Date" ? v : Number(v)])),
        ...Object.fromEntries(ownFields.map((f) => [f, own(days[i]!, f)])),
      })),
    };
  },
});

export const getRealtimeStats = command({
  body: z.object({ Minutes: optional(z.number().int().min(1).max(minutesKept)) }),
  paramErrorCode,
  async handle({ env, app }, body) {
    const now = minuteOf(Date.now());
    const first = now - (body.Minutes ?? 60) + 1;
    const [rows, online] = await Promise.all([readMinutes(env.DB, app.sdkAppId, first), onlineNow(env.DB, app.sdkAppId)]);
    const byMinute = new Map<string, number>(rows.map((r) => [`${r.minute} ${r.field}`, r.value]));
    const minutes = [];
    for (let m = first; m <= now; m++) {
      minutes.push({ Minute: m * 60, ...Object.fromEntries(minuteFields.map((f) => [f, byMinute.get(`${m} ${f}`) ?? 0])) });
    }
    return { OnlineNum: online, Minutes: minutes };
  },
});

export const getRestLog = command({
  body: z.object({
    Limit: optional(z.number().int().min(1).max(restLogSize)),
    /** Continue before this entry (the previous page's Next). */
    Before: optional(z.number().int().min(1)),
  }),
  paramErrorCode,
  async handle({ env, app }, body) {
    const limit = body.Limit ?? 100;
    const calls = await appActor(env, app.sdkAppId).restLog(limit, body.Before);
    return {
      Calls: calls.map((c) => ({ Id: c.id, Command: c.command, Caller: c.caller, ErrorCode: c.code, TimeMs: c.at, Ms: c.ms })),
      Next: calls.length === limit ? calls.at(-1)!.id : 0,
    };
  },
});

export const edgeimOpsSvc = { get_stats: getStats, get_realtime_stats: getRealtimeStats, get_rest_log: getRestLog };
