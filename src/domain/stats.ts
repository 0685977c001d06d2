/**
 * Statistics per app and per day, with Tencent's names (openconfigsvr/getappinfo). Counters are
 * added as the actors work and kept per (app, UTC day, field); this module names the fields,
 * keeps a batch of pending counts, and turns stored counts into getappinfo's rows.
 */
import { z } from "zod";

/** getappinfo's fields in the spec's order (request names = response keys). */
export const appInfoFields = [
  "AppName",
  "AppId",
  "Company",
  "ActiveUserNum",
  "RegistUserNumOneDay",
  "RegistUserNumTotal",
  "LoginTimes",
  "LoginUserNum",
  "UpMsgNum",
  "SendMsgUserNum",
  "APNSMsgNum",
  "C2CUpMsgNum",
  "C2CDownMsgNum",
  "C2CSendMsgUserNum",
  "C2CAPNSMsgNum",
  "MaxOnlineNum",
  "DownMsgNum",
  "ChainIncrease",
  "ChainDecrease",
  "GroupUpMsgNum",
  "GroupDownMsgNum",
  "GroupSendMsgUserNum",
  "GroupAPNSMsgNum",
  "GroupSendMsgGroupNum",
  "GroupJoinGroupTimes",
  "GroupQuitGroupTimes",
  "GroupNewGroupNum",
  "GroupAllGroupNum",
  "GroupDestroyGroupNum",
  "CallBackReq",
  "CallBackRsp",
  "Date",
] as const;
export type AppInfoField = (typeof appInfoFields)[number];

/**
 * What is stored (per app, day, field). Tencent's counted fields, plus edge-im's own: users online
 * now (day 0 only), accounts deleted (to work totals backwards) and the callbacks' outcomes.
 */
export const countedFields = [
  "ActiveUserNum",
  "RegistUserNumOneDay",
  "RegistUserNumDeleted",
  "LoginTimes",
  "LoginUserNum",
  "SendMsgUserNum",
  "C2CUpMsgNum",
  "C2CDownMsgNum",
  "C2CSendMsgUserNum",
  "MaxOnlineNum",
  "OnlineNum",
  "ChainIncrease",
  "ChainDecrease",
  "GroupUpMsgNum",
  "GroupDownMsgNum",
  "GroupSendMsgUserNum",
  "GroupSendMsgGroupNum",
  "GroupJoinGroupTimes",
  "GroupQuitGroupTimes",
  "GroupNewGroupNum",
  "GroupDestroyGroupNum",
  "CallBackReq",
  "CallBackRsp",
  "CallbackFailed",
  "CallbackRetried",
  "CallbackDropped",
] as const;
export type CountedField = (typeof countedFields)[number];

/** Running totals, kept on day 0. */
export const totalFields = ["RegistUserNumTotal", "GroupAllGroupNum", "OnlineNum"] as const;
export type TotalField = (typeof totalFields)[number];

/** Increments for one moment: a field and how much it moves (totals may move down). */
export type Counts = Partial<Record<CountedField | TotalField, number>>;

/** The day of the statistics that `ms` falls in: UTC, as YYYYMMDD. */
export function dayOf(ms: number): number {
  const d = new Date(ms);
  return d.getUTCFullYear() * 10_000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}

/** The `n` days ending with the one `ms` falls in, newest first. */
export function lastDays(ms: number, n: number): number[] {
  const days: number[] = [];
  for (let i = 0; i < n; i++) days.push(dayOf(ms - i * 86_400_000));
  return days;
}

/**
 * Counts not yet written to D1: per day, per field. A batch is small (a few dozen numbers), so
 * an actor keeps it in one row of its own SQLite.
 */
export type PendingCounts = Record<string, Partial<Record<string, number>>>;

export function addCounts(pending: PendingCounts, day: number, counts: Counts): void {
  const row = (pending[day] ??= {});
  for (const [field, n] of Object.entries(counts)) {
    if (!n) continue;
    // Totals live on day 0, whatever day they moved on.
    const target = (totalFields as readonly string[]).includes(field) ? (pending[0] ??= {}) : row;
    target[field] = (target[field] ?? 0) + n;
  }
}

/** A batch as D1 rows: [day, field, n]. */
export function pendingEntries(pending: PendingCounts): [number, string, number][] {
  return Object.entries(pending).flatMap(([day, fields]) =>
    Object.entries(fields).filter(([, n]) => n).map(([field, n]): [number, string, number] => [Number(day), field, n!]),
  );
}

/** Figures also kept per minute for the last day, for a real-time view. */
export const minuteFields = ["C2CUpMsgNum", "GroupUpMsgNum", "LoginTimes", "CallBackReq", "CallBackRsp", "CallbackFailed"] as const;
/** Minutes kept. */
export const minutesKept = 1440;

export const minuteOf = (ms: number) => Math.floor(ms / 60_000);

/** A stored count. */
export interface StatRow {
  day: number;
  field: string;
  value: number;
}

export interface AppIdentity {
  sdkAppId: number;
  name: string;
}

export const RequestField = z.array(z.enum(appInfoFields)).max(appInfoFields.length);

/**
 * getappinfo's rows, newest day first, every value a string. Totals are the running total now
 * less what changed after each day. Pushes to Apple (APNS) are not made by this server, so those
 * figures are always 0; UpMsgNum and DownMsgNum are the one-to-one and group figures added up.
 */
export function appInfoRows(app: AppIdentity, rows: StatRow[], days: number[], fields: readonly AppInfoField[] = appInfoFields): Record<string, string>[] {
  const byDay = new Map<number, Map<string, number>>();
  for (const row of rows) {
    let fieldsOfDay = byDay.get(row.day);
    if (!fieldsOfDay) byDay.set(row.day, (fieldsOfDay = new Map()));
    fieldsOfDay.set(row.field, (fieldsOfDay.get(row.field) ?? 0) + row.value);
  }
  const on = (day: number, field: string) => byDay.get(day)?.get(field) ?? 0;
  const totals = byDay.get(0) ?? new Map<string, number>();
  // Changes on days after each one: the newest day first, so each day's total takes one step back.
  let users = totals.get("RegistUserNumTotal") ?? 0;
  let groups = totals.get("GroupAllGroupNum") ?? 0;
  const later = [...byDay.keys()].filter((d) => d > (days[0] ?? 0));
  for (const day of later) {
    users -= on(day, "RegistUserNumOneDay") - on(day, "RegistUserNumDeleted");
    groups -= on(day, "GroupNewGroupNum") - on(day, "GroupDestroyGroupNum");
  }
  return days.map((day) => {
    const value = (field: AppInfoField): string | number => {
      switch (field) {
        case "AppName":
          return app.name;
        case "AppId":
          return app.sdkAppId;
        case "Company":
          return "";
        case "Date":
          return day;
        case "RegistUserNumTotal":
          return users;
        case "GroupAllGroupNum":
          return groups;
        case "UpMsgNum":
          return on(day, "C2CUpMsgNum") + on(day, "GroupUpMsgNum");
        case "DownMsgNum":
          return on(day, "C2CDownMsgNum") + on(day, "GroupDownMsgNum");
        case "APNSMsgNum":
        case "C2CAPNSMsgNum":
        case "GroupAPNSMsgNum":
          return 0;
        default:
          return on(day, field);
      }
    };
    const result: Record<string, string> = {};
    for (const field of fields) result[field] = String(value(field));
    users -= on(day, "RegistUserNumOneDay") - on(day, "RegistUserNumDeleted");
    groups -= on(day, "GroupNewGroupNum") - on(day, "GroupDestroyGroupNum");
    return result;
  });
}
