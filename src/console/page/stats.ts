/**
 * The statistics page: `openconfigsvr/getappinfo` (Tencent's names, one row per day, every value
 * a string), charted with uPlot (bundled into the page at build time), with CSV export. On a
 * server without the command it says so and shows nothing else.
 */
import uPlot from "uplot";
import { call, type Answer } from "./api.ts";
import { errorBox, h } from "./ui.ts";

const tabs: [string, string[]][] = [
  ["Users", ["ActiveUserNum", "RegistUserNumOneDay", "RegistUserNumTotal", "LoginUserNum"]],
  ["Messages", ["UpMsgNum", "C2CUpMsgNum", "GroupUpMsgNum", "SendMsgUserNum", "DownMsgNum"]],
  ["Groups", ["GroupNewGroupNum", "GroupAllGroupNum", "GroupDestroyGroupNum", "GroupSendMsgGroupNum"]],
  ["Real time", ["LoginTimes", "MaxOnlineNum", "CallBackReq", "CallBackRsp"]],
];
const colors = ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df"];

type Row = Record<string, string>;

/** "20261127" → unix seconds at that day's UTC midnight. */
function dayOf(date: string): number {
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(4, 6)) - 1, Number(date.slice(6, 8))) / 1000;
}

export function statisticsPage(sdkAppId: number): HTMLElement {
  const body = h("div", { "aria-live": "polite" }, h("p", { class: "muted" }, "Loading…"));
  const page = h("section", { class: "card wide" }, body);
  void (async () => {
    const answer: Answer = await call("openconfigsvr/getappinfo", {}, sdkAppId);
    if (answer.ActionStatus !== "OK") {
      return body.replaceChildren(h("p", {}, "Statistics are not available on this server yet."), errorBox(answer));
    }
    const rows = ((answer.Result as Row[]) ?? []).filter((r) => /^\d{8}$/.test(String(r.Date))).sort((a, b) => a.Date!.localeCompare(b.Date!));
    if (rows.length === 0) return body.replaceChildren(h("p", { class: "muted" }, "No figures yet."));
    let days = 30;
    let tab = 0;
    const chart = h("div", { class: "chart", role: "img" });
    const controls = h("div", { class: "tabs", role: "tablist" });
    const ranges = h("div", { class: "ranges" });
    const draw = () => {
      const shown = rows.slice(-days);
      const [name, fields] = tabs[tab]!;
      chart.setAttribute("aria-label", `${name} per day over the last ${days} days`);
      const data: uPlot.AlignedData = [shown.map((r) => dayOf(r.Date!)), ...fields.map((f) => shown.map((r) => Number(r[f] ?? 0)))];
      chart.replaceChildren();
      new uPlot(
        {
          width: Math.max(280, Math.min(chart.clientWidth || 800, 1000)),
          height: 280,
          series: [{}, ...fields.map((f, i) => ({ label: f, stroke: colors[i % colors.length], width: 2 }))],
          axes: [{}, {}],
        },
        data,
        chart,
      );
      controls.replaceChildren(
        ...tabs.map(([label], i) => h("button", { type: "button", role: "tab", "aria-selected": i === tab ? "true" : "false", onclick: () => ((tab = i), draw()) }, label)),
      );
      ranges.replaceChildren(
        ...[7, 14, 30].map((d) => h("button", { type: "button", "aria-pressed": d === days ? "true" : "false", onclick: () => ((days = d), draw()) }, `${d} days`)),
        h("button", { type: "button", onclick: () => downloadCsv(sdkAppId, shown) }, "Export CSV"),
      );
    };
    body.replaceChildren(controls, ranges, chart);
    draw();
  })();
  return page;
}

function downloadCsv(sdkAppId: number, rows: Row[]): void {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const text = [columns.join(","), ...rows.map((r) => columns.map((c) => quote(String(r[c] ?? ""))).join(","))].join("\n");
  const link = h("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv" })), download: `edge-im-${sdkAppId}-statistics.csv` });
  document.body.append(link);
  link.click();
  link.remove();
}
