/**
 * The statistics page, laid out like Tencent's: today's figures, a real-time chart of the last hour
 * (`edgeim_ops_svc/get_realtime_stats`, refreshed every few seconds while the page is shown), and
 * the last 30 days per topic (`edgeim_ops_svc/get_stats`: getappinfo's figures under Tencent's
 * names, as numbers, plus the callbacks' outcomes). Each chart (uPlot, bundled into the page) has
 * its figures in a table beside it and a CSV export. On a server without the commands the page
 * says so and shows nothing else.
 */
import uPlot from "uplot";
import { call, type Answer } from "./api.ts";
import { downloadCsv, errorBox, h, loading } from "./ui.ts";

/** Per-day topics: Tencent's field names. */
const topics: [string, string[]][] = [
  ["Users", ["ActiveUserNum", "RegistUserNumOneDay", "LoginUserNum", "LoginTimes", "MaxOnlineNum", "RegistUserNumTotal"]],
  ["Messages", ["C2CUpMsgNum", "GroupUpMsgNum", "C2CDownMsgNum", "GroupDownMsgNum", "SendMsgUserNum", "C2CSendMsgUserNum", "GroupSendMsgUserNum"]],
  ["Groups", ["GroupNewGroupNum", "GroupDestroyGroupNum", "GroupJoinGroupTimes", "GroupQuitGroupTimes", "GroupSendMsgGroupNum", "GroupAllGroupNum"]],
  ["Callbacks", ["CallBackReq", "CallBackRsp", "CallbackFailed", "CallbackRetried", "CallbackDropped"]],
];
/** Running totals, far larger than a day's figures: drawn against an axis of their own, on the right. */
const totals = new Set(["RegistUserNumTotal", "GroupAllGroupNum"]);
/** Figures per minute, as get_realtime_stats names them. */
const minuteFields = ["C2CUpMsgNum", "GroupUpMsgNum", "LoginTimes", "CallBackReq", "CallBackRsp", "CallbackFailed"];
/** Today's figures at the top of the page. */
const todayFields = ["ActiveUserNum", "LoginUserNum", "C2CUpMsgNum", "GroupUpMsgNum", "RegistUserNumOneDay", "GroupNewGroupNum", "CallBackReq", "CallbackFailed"];
/** Distinct on white, each at least 4.5:1 against it; every other series dashed, so colour is not the only difference. */
const colors = ["#0b57d0", "#b3261e", "#116329", "#8a4b00", "#6f42c1", "#a8307a", "#4d5661"];
/** How often the real-time figures and today's are read again while the page is shown. */
const refreshMs = 3000;
const realtimeMinutes = 60;

type Row = Record<string, number | string>;

/** "20261127" → unix seconds at that day's UTC midnight. */
function dayOf(date: string): number {
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(4, 6)) - 1, Number(date.slice(6, 8))) / 1000;
}

function dayLabel(date: string): string {
  return `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`;
}

function minuteLabel(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/**
 * A chart and its figures as a table beside it. `update` replaces the data (the chart redraws in
 * place); the chart follows its box's width.
 */
function chartWithTable(options: {
  label: string;
  fields: string[];
  /** The x value (unix seconds) and its label in the table and CSV. */
  x: (row: Row) => number;
  xLabel: string;
  xText: (row: Row) => string;
  utc: boolean;
  csvName: () => string;
  id: string;
}) {
  const box = h("div", { class: "chart", role: "img", id: `${options.id}-chart` });
  const table = h("div", { class: "table scroll", tabindex: 0, role: "region", "aria-label": `${options.label}: figures` });
  const exportButton = h("button", { type: "button", class: "secondary" }, "Export CSV");
  let rows: Row[] = [];
  let plot: uPlot | undefined;
  exportButton.addEventListener("click", () =>
    downloadCsv(
      options.csvName(),
      rows.map((r) => ({ [options.xLabel]: options.xText(r), ...Object.fromEntries(options.fields.map((f) => [f, r[f] ?? 0])) })),
    ),
  );
  const data = (): uPlot.AlignedData => [rows.map(options.x), ...options.fields.map((f) => rows.map((r) => Number(r[f] ?? 0)))];
  const width = () => Math.max(240, Math.floor(box.clientWidth || 320));
  const draw = () => {
    box.setAttribute("aria-label", `${options.label}: ${options.fields.join(", ")}; the same figures are in the table`);
    if (!plot) {
      plot = new uPlot(
        {
          width: width(),
          height: 260,
          ...(options.utc ? { tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC") } : {}),
          series: [
            { label: options.xLabel },
            ...options.fields.map((f, i) => ({ label: f, stroke: colors[i % colors.length], width: 2, ...(i % 2 ? { dash: [6, 4] } : {}), scale: totals.has(f) ? "total" : "y" })),
          ],
          axes: [{}, { size: 56 }, ...(options.fields.some((f) => totals.has(f)) ? [{ scale: "total", side: 1, size: 56, grid: { show: false } }] : [])],
          scales: {
            y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
            total: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
          },
        },
        data(),
        box,
      );
    } else plot.setData(data());
    // Newest first in the table, as the REST answers are read.
    const newest = [...rows].reverse();
    table.replaceChildren(
      h(
        "table",
        { id: `${options.id}-table` },
        h("caption", {}, options.label),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, options.xLabel), ...options.fields.map((f) => h("th", { scope: "col" }, f)))),
        h("tbody", {}, ...newest.map((r) => h("tr", {}, h("th", { scope: "row" }, options.xText(r)), ...options.fields.map((f) => h("td", { "data-field": f }, String(r[f] ?? 0)))))),
      ),
    );
  };
  new ResizeObserver(() => plot && Math.abs(plot.width - width()) > 8 && plot.setSize({ width: width(), height: 260 })).observe(box);
  const element = h("div", { class: "chart-pair" }, h("div", {}, box, h("div", { class: "actions" }, exportButton)), table);
  return {
    element,
    update(next: Row[]) {
      rows = next;
      draw();
    },
  };
}

export function statisticsPage(sdkAppId: number): HTMLElement {
  const page = h("div", { class: "grid" }, h("p", { class: "muted" }, "Loading…"));
  void loading(
    (async () => {
      const [daily, realtime] = await Promise.all([
        call("edgeim_ops_svc/get_stats", { Days: 30 }, sdkAppId),
        call("edgeim_ops_svc/get_realtime_stats", { Minutes: realtimeMinutes }, sdkAppId),
      ]);
      if (daily.ActionStatus !== "OK") {
        return page.replaceChildren(h("section", { class: "card wide" }, h("p", {}, "Statistics are not available on this server."), errorBox(daily)));
      }
      const days = ((daily.Result as Row[]) ?? []).filter((r) => /^\d{8}$/.test(String(r.Date))).reverse();

      // Today
      const tiles = h("dl", { class: "tiles", id: "today" });
      const updated = h("p", { class: "muted small" });
      const showToday = (answer: Answer, today: Row | undefined) => {
        tiles.replaceChildren(
          ...[["OnlineNum", answer.OnlineNum ?? 0] as const, ...todayFields.map((f) => [f, today?.[f] ?? 0] as const)].map(([f, v]) =>
            h("div", { class: "tile" }, h("dt", {}, f === "OnlineNum" ? "Online now" : f), h("dd", { "data-field": f }, String(v))),
          ),
        );
        updated.textContent = `Today (UTC ${today ? dayLabel(String(today.Date)) : ""}), updated ${new Date().toLocaleTimeString()}. Counts reach these figures within about 5 seconds.`;
      };
      showToday(daily, days.at(-1));

      // Real time
      const realtimeChart = chartWithTable({
        label: `Per minute, the last ${realtimeMinutes} minutes`,
        fields: minuteFields,
        x: (r) => Number(r.Minute),
        xLabel: "Minute",
        xText: (r) => minuteLabel(Number(r.Minute)),
        utc: false,
        csvName: () => `edge-im-${sdkAppId}-realtime.csv`,
        id: "realtime",
      });
      const realtimeBody = h("div", {}, realtime.ActionStatus === "OK" ? realtimeChart.element : errorBox(realtime));

      // Per day, a topic at a time
      let shown = 30;
      let topic = 0;
      const charts = topics.map(([name, fields]) =>
        chartWithTable({
          label: `${name} per day (UTC)`,
          fields,
          x: (r) => dayOf(String(r.Date)),
          xLabel: "Date",
          xText: (r) => dayLabel(String(r.Date)),
          utc: true,
          csvName: () => `edge-im-${sdkAppId}-${name.toLowerCase()}-${shown}d.csv`,
          id: `daily-${name.toLowerCase()}`,
        }),
      );
      const tabs = topics.map(([name], i) =>
        h("button", { type: "button", role: "tab", id: `tab-${i}`, "aria-controls": `panel-${i}`, onclick: () => choose(i) }, name),
      );
      const panels = charts.map((c, i) => h("div", { role: "tabpanel", id: `panel-${i}`, "aria-labelledby": `tab-${i}` }, c.element));
      const tabList = h("div", { class: "tabs", role: "tablist", "aria-label": "Topics" }, ...tabs);
      // Arrow keys move between tabs, as in any tab list.
      tabList.addEventListener("keydown", (event) => {
        const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
        if (!step) return;
        event.preventDefault();
        choose((topic + step + topics.length) % topics.length);
        tabs[topic]!.focus();
      });
      const ranges = h(
        "div",
        { class: "ranges", role: "group", "aria-label": "Days shown" },
        ...[7, 14, 30].map((d) => h("button", { type: "button", class: "secondary", "aria-pressed": String(d === shown), onclick: () => ((shown = d), choose(topic)) }, `${d} days`)),
      );
      const choose = (i: number) => {
        topic = i;
        tabs.forEach((t, j) => (t.setAttribute("aria-selected", String(j === i)), t.setAttribute("tabindex", j === i ? "0" : "-1")));
        panels.forEach((p, j) => (p.hidden = j !== i));
        for (const b of ranges.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.textContent === `${shown} days`));
        // A hidden chart has no width: each is drawn when shown.
        charts[i]!.update(days.slice(-shown));
      };

      page.replaceChildren(
        h("section", { class: "card wide", "aria-labelledby": "h-today" }, h("h2", { id: "h-today" }, "Today"), tiles, updated),
        h("section", { class: "card wide", "aria-labelledby": "h-realtime" }, h("h2", { id: "h-realtime" }, "Real time"), realtimeBody),
        h("section", { class: "card wide", "aria-labelledby": "h-daily" }, h("h2", { id: "h-daily" }, "Per day"), tabList, ranges, ...panels),
      );
      // Charts are drawn once in the page, at the width they have there.
      if (realtime.ActionStatus === "OK") realtimeChart.update((realtime.Minutes as Row[]) ?? []);
      choose(0);

      // Today's figures and the real-time chart move while the page is shown.
      const timer = setInterval(async () => {
        if (!page.isConnected) return clearInterval(timer);
        if (document.hidden) return;
        const [today, minutes] = await Promise.all([
          call("edgeim_ops_svc/get_stats", { Days: 1 }, sdkAppId),
          call("edgeim_ops_svc/get_realtime_stats", { Minutes: realtimeMinutes }, sdkAppId),
        ]);
        if (!page.isConnected) return;
        const row = (today.Result as Row[] | undefined)?.[0];
        if (today.ActionStatus === "OK" && row) {
          const at = days.findIndex((d) => d.Date === row.Date);
          if (at >= 0) days[at] = row;
          else {
            // A new UTC day: it joins, the oldest leaves.
            days.push(row);
            days.shift();
          }
          showToday(today, row);
          charts[topic]!.update(days.slice(-shown));
        }
        if (minutes.ActionStatus === "OK") realtimeChart.update((minutes.Minutes as Row[]) ?? []);
      }, refreshMs);
    })(),
  );
  return page;
}
