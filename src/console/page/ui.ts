/** Small DOM helpers for the console page: elements, forms of labelled fields, results as tables. */
import type { Answer } from "./api.ts";

/**
 * Whether the page shown is still loading what it first shows: `main[aria-busy]` is "true" while
 * any load begun for it runs (assistive technology waits for it; the browser test times it).
 */
let loads = 0;
let generation = 0;

function markBusy(): void {
  document.getElementById("main")?.setAttribute("aria-busy", loads > 0 ? "true" : "false");
}

/** A new page begins: loads of the page before no longer count. */
export function newPage(): void {
  generation += 1;
  loads = 0;
  markBusy();
}

/** Counts `work` as part of loading the page being shown. */
export function loading<T>(work: Promise<T>): Promise<T> {
  const mine = generation;
  loads += 1;
  markBusy();
  const done = () => {
    if (mine !== generation) return;
    loads -= 1;
    markBusy();
  };
  work.then(done, done);
  return work;
}

type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, unknown> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false || value === null) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value as EventListener);
    else if (name === "class") element.className = String(value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(typeof child === "number" ? String(child) : child);
  return element;
}

export interface Field {
  name: string;
  label: string;
  type?: "text" | "number" | "password" | "textarea" | "checkbox" | "select";
  required?: boolean;
  placeholder?: string;
  value?: string | number | boolean;
  options?: string[];
  hint?: string;
  min?: number;
  max?: number;
}

export type Values = Record<string, string | boolean>;

let fieldCounter = 0;

function fieldRow(field: Field): { row: HTMLElement; read: () => string | boolean } {
  const id = `f${fieldCounter++}-${field.name}`;
  const hintId = field.hint ? `${id}-hint` : undefined;
  const common = { id, name: field.name, required: field.required, "aria-describedby": hintId, placeholder: field.placeholder };
  let input: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;
  if (field.type === "textarea") {
    input = h("textarea", { ...common, rows: 4 });
    input.value = String(field.value ?? "");
  } else if (field.type === "select") {
    input = h("select", common, ...(field.options ?? []).map((o) => h("option", { value: o }, o)));
    if (field.value !== undefined) input.value = String(field.value);
  } else if (field.type === "checkbox") {
    input = h("input", { ...common, type: "checkbox", required: false });
    (input as HTMLInputElement).checked = Boolean(field.value);
  } else {
    input = h("input", { ...common, type: field.type ?? "text", min: field.min, max: field.max, autocomplete: field.type === "password" ? "off" : "off" });
    if (field.value !== undefined) input.value = String(field.value);
  }
  const row = h(
    "div",
    { class: field.type === "checkbox" ? "field check" : "field" },
    h("label", { for: id }, field.label),
    input,
    field.hint ? h("small", { id: hintId }, field.hint) : null,
  );
  return { row, read: () => (field.type === "checkbox" ? (input as HTMLInputElement).checked : input.value.trim()) };
}

export interface Action {
  title: string;
  description?: string;
  fields: Field[];
  submit: string;
  danger?: boolean;
  /** Asked before running (a destructive action). */
  confirm?: (values: Values) => string;
  run: (values: Values) => Promise<Answer>;
  /** What to show of a successful answer; the whole answer by default. */
  render?: (answer: Answer, values: Values) => Node;
}

/** A card with a form that runs a command and shows its answer, or its error, below it. */
export function actionCard(action: Action): HTMLElement {
  const rows = action.fields.map(fieldRow);
  const output = h("div", { class: "output", "aria-live": "polite" });
  const button = h("button", { type: "submit", class: action.danger ? "danger" : "" }, action.submit);
  const form = h("form", {}, ...rows.map((r) => r.row), h("div", { class: "actions" }, button));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values: Values = Object.fromEntries(action.fields.map((f, i) => [f.name, rows[i]!.read()]));
    if (action.confirm && !window.confirm(action.confirm(values))) return;
    button.disabled = true;
    button.textContent = "Working…";
    output.replaceChildren(h("progress", { "aria-label": `${action.title}: working` }));
    try {
      const answer = await action.run(values);
      output.replaceChildren(answer.ActionStatus === "OK" ? (action.render ?? renderAnswer)(answer, values) : errorBox(answer));
    } catch (error) {
      output.replaceChildren(errorBox({ ActionStatus: "FAIL", ErrorCode: -1, ErrorInfo: String((error as Error).message ?? error) }));
    } finally {
      button.disabled = false;
      button.textContent = action.submit;
    }
  });
  return h("section", { class: "card" }, h("h2", {}, action.title), action.description ? h("p", { class: "muted" }, action.description) : null, form, output);
}

export function errorBox(answer: Answer): HTMLElement {
  return h("p", { class: "error", role: "alert" }, `${answer.ErrorInfo || "failed"} (code ${answer.ErrorCode})`);
}

/** The payload of an answer (everything but the envelope), as tables and lists. */
export function renderAnswer(answer: Answer): HTMLElement {
  const { ActionStatus: _s, ErrorCode: _c, ErrorInfo: _i, ErrorDisplay: _d, ...payload } = answer;
  if (Object.keys(payload).length === 0) return h("p", { class: "ok", role: "status" }, "Done.");
  return h("div", { class: "ok-result", role: "status" }, renderValue(payload));
}

const pageSize = 20;

export function renderValue(value: unknown): Node {
  if (Array.isArray(value)) {
    if (value.length === 0) return h("span", { class: "muted" }, "none");
    if (value.every((v) => typeof v === "object" && v !== null && !Array.isArray(v))) return pagedTable(value as Record<string, unknown>[]);
    return document.createTextNode(value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(", "));
  }
  if (typeof value === "object" && value !== null) {
    const list = h("dl");
    for (const [key, inner] of Object.entries(value)) {
      if (inner === undefined) continue;
      list.append(h("dt", {}, key), h("dd", {}, renderValue(inner)));
    }
    return list;
  }
  return document.createTextNode(value === undefined || value === null ? "" : String(value));
}

/** A table of rows, a page at a time. */
export function pagedTable(rows: Record<string, unknown>[], caption?: string): HTMLElement {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const wrapper = h("div", { class: "table" });
  let page = 0;
  const show = () => {
    const slice = rows.slice(page * pageSize, (page + 1) * pageSize);
    const table = h(
      "table",
      {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, ...columns.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, ...slice.map((row) => h("tr", {}, ...columns.map((c) => h("td", {}, cell(row[c])))))),
    );
    const pages = Math.ceil(rows.length / pageSize);
    const pager =
      pages > 1
        ? h(
            "nav",
            { class: "pager", "aria-label": "pages" },
            h("button", { type: "button", disabled: page === 0, onclick: () => ((page -= 1), show()) }, "Previous"),
            h("span", {}, `${page + 1} / ${pages} (${rows.length} rows)`),
            h("button", { type: "button", disabled: page >= pages - 1, onclick: () => ((page += 1), show()) }, "Next"),
          )
        : null;
    wrapper.replaceChildren(table, ...(pager ? [pager] : []));
  };
  show();
  return wrapper;
}

function cell(value: unknown): Node {
  if (value === undefined || value === null) return document.createTextNode("");
  if (typeof value === "object") return h("code", {}, JSON.stringify(value));
  return document.createTextNode(String(value));
}

/** "a, b ,c" → ["a", "b", "c"] */
export function list(value: string | boolean | undefined): string[] {
  return String(value ?? "")
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function num(value: string | boolean | undefined): number | undefined {
  const text = String(value ?? "").trim();
  return text === "" ? undefined : Number(text);
}

export function random32(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

/** Rows as CSV (RFC 4180 quoting), downloaded as `name`. */
export function downloadCsv(name: string, rows: Record<string, unknown>[]): void {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const quote = (v: unknown) => {
    let text = v === undefined || v === null ? "" : String(v);
    // A caller named in a URL is anyone's text: a spreadsheet must not run it as a formula.
    if (typeof v === "string" && /^[=+\-@\t\r]/.test(text) && !/^-?\d/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const text = [columns.join(","), ...rows.map((r) => columns.map((c) => quote(r[c])).join(","))].join("\r\n");
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  const link = h("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Seconds as a short duration, to the nearest minute past one: "45 s", "12 min", "1 h", "3 h 5 min", "2 d 4 h". */
export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const [hours, restMinutes] = [Math.floor(minutes / 60), minutes % 60];
  if (hours < 24) return restMinutes ? `${hours} h ${restMinutes} min` : `${hours} h`;
  const [days, restHours] = [Math.floor(hours / 24), hours % 24];
  return restHours ? `${days} d ${restHours} h` : `${days} d`;
}
