/**
 * The operations page: a user's global mute (`openconfigsvr/setnospeaking`, `getnospeaking`), the
 * app's sensitive words (`openim_dirty_words/get|add|delete`) and its REST call log
 * (`edgeim_ops_svc/get_rest_log`: newest first, a page at a time; commands, callers and codes,
 * never bodies).
 */
import { call, type Answer } from "./api.ts";
import { actionCard, downloadCsv, duration, errorBox, h, loading, num, type Values } from "./ui.ts";

/** Tencent's "muted forever". */
const forever = 4294967295;

function muteText(seconds: number): string {
  if (seconds === 0) return "not muted";
  if (seconds >= forever) return "muted forever";
  return `muted for ${duration(seconds)} more`;
}

function muteState(answer: Answer, userId: string): HTMLElement {
  return h(
    "dl",
    { class: "ok-result", role: "status" },
    h("dt", {}, "User"),
    h("dd", {}, userId),
    h("dt", {}, "One-to-one"),
    h("dd", { "data-field": "C2CmsgNospeakingTime" }, muteText(Number(answer.C2CmsgNospeakingTime))),
    h("dt", {}, "Groups"),
    h("dd", { "data-field": "GroupmsgNospeakingTime" }, muteText(Number(answer.GroupmsgNospeakingTime))),
  );
}

/** "" → unchanged; "forever" → Tencent's forever; otherwise seconds. */
function muteSeconds(value: Values[string] | undefined): number | undefined {
  const text = String(value ?? "").trim().toLowerCase();
  if (text === "") return undefined;
  if (text === "forever") return forever;
  return num(text);
}

export function operationsPage(sdkAppId: number): HTMLElement {
  const run = (command: string, body: unknown) => call(command, body, sdkAppId);

  const setMute = actionCard({
    title: "Mute a user everywhere",
    description: "A muted user's one-to-one messages are refused with 20012 and group messages with 10017, from every device and from REST.",
    fields: [
      { name: "user", label: "User ID", required: true },
      { name: "c2c", label: "One-to-one mute (seconds)", placeholder: "3600", hint: "0 lifts it; forever; empty leaves it as it is." },
      { name: "group", label: "Group mute (seconds)", placeholder: "3600", hint: "0 lifts it; forever; empty leaves it as it is." },
    ],
    submit: "Set mute",
    run: async (v) => {
      const c2c = muteSeconds(v.c2c);
      const group = muteSeconds(v.group);
      const set = await run("openconfigsvr/setnospeaking", {
        Set_Account: v.user,
        ...(c2c !== undefined ? { C2CmsgNospeakingTime: c2c } : {}),
        ...(group !== undefined ? { GroupmsgNospeakingTime: group } : {}),
      });
      return set.ActionStatus === "OK" ? run("openconfigsvr/getnospeaking", { Get_Account: v.user }) : set;
    },
    render: (a, v) => muteState(a, String(v.user)),
  });
  const getMute = actionCard({
    title: "Look up a user's mute",
    fields: [{ name: "user", label: "User ID", required: true }],
    submit: "Look up",
    run: (v) => run("openconfigsvr/getnospeaking", { Get_Account: v.user }),
    render: (a, v) => muteState(a, String(v.user)),
  });

  return h("div", { class: "grid" }, setMute, getMute, ...dirtyWordsCards(run), restLogCard(run, sdkAppId));
}

type Run = (command: string, body: unknown) => Promise<Answer>;

const wordsPerPage = 20;

/** The list of words (each with its delete button) and the card that adds some. */
function dirtyWordsCards(run: Run): HTMLElement[] {
  const listing = h("div", { "aria-live": "polite" });
  const status = h("div", { class: "output", "aria-live": "polite" });
  let words: string[] = [];
  let page = 0;
  const show = () => {
    const pages = Math.max(1, Math.ceil(words.length / wordsPerPage));
    page = Math.min(page, pages - 1);
    const slice = words.slice(page * wordsPerPage, (page + 1) * wordsPerPage);
    listing.replaceChildren(
      words.length === 0
        ? h("p", { class: "muted" }, "No sensitive words.")
        : h(
            "ul",
            { class: "words", id: "dirty-words" },
            ...slice.map((w) =>
              h("li", {}, h("span", {}, w), h("button", { type: "button", class: "secondary small", "aria-label": `Delete "${w}"`, onclick: () => remove(w) }, "Delete")),
            ),
          ),
      ...(pages > 1
        ? [
            h(
              "nav",
              { class: "pager", "aria-label": "pages of words" },
              h("button", { type: "button", class: "secondary", disabled: page === 0, onclick: () => ((page -= 1), show()) }, "Previous"),
              h("span", {}, `${page + 1} / ${pages} (${words.length} words)`),
              h("button", { type: "button", class: "secondary", disabled: page >= pages - 1, onclick: () => ((page += 1), show()) }, "Next"),
            ),
          ]
        : []),
    );
  };
  const load = async () => {
    const answer = await run("openim_dirty_words/get", {});
    if (answer.ActionStatus !== "OK") return listing.replaceChildren(errorBox(answer));
    words = (answer.DirtyWordsList as string[]) ?? [];
    show();
  };
  const remove = async (word: string) => {
    if (!window.confirm(`Delete the sensitive word "${word}"?`)) return;
    status.replaceChildren(h("progress", { "aria-label": "deleting" }));
    const answer = await run("openim_dirty_words/delete", { DirtyWordsList: [word] });
    status.replaceChildren(answer.ActionStatus === "OK" ? h("p", { class: "ok", role: "status" }, `Deleted "${word}".`) : errorBox(answer));
    await load();
  };
  void loading(load());
  const add = actionCard({
    title: "Add sensitive words",
    fields: [{ name: "words", label: "Words", type: "textarea", required: true, hint: "One a line, at most 50 at a time. A message containing one, whatever its case, is refused with 80001." }],
    submit: "Add",
    run: (v) =>
      run("openim_dirty_words/add", {
        DirtyWordsList: String(v.words)
          .split("\n")
          .map((w) => w.trim())
          .filter(Boolean),
      }),
    render: () => {
      void load();
      return h("p", { class: "ok", role: "status" }, "Added. Senders' devices see the change within a minute.");
    },
  });
  return [h("section", { class: "card", "aria-labelledby": "h-words" }, h("h2", { id: "h-words" }, "Sensitive words"), listing, status), add];
}

const logPage = 20;

function restLogCard(run: Run, sdkAppId: number): HTMLElement {
  const listing = h("div", { "aria-live": "polite" });
  /** Where each page starts (Before), the first page at the newest call. */
  const starts: (number | undefined)[] = [undefined];
  let index = 0;
  let shown: Record<string, unknown>[] = [];
  const load = async () => {
    listing.replaceChildren(h("progress", { "aria-label": "loading the call log" }));
    const before = starts[index];
    const answer = await run("edgeim_ops_svc/get_rest_log", { Limit: logPage, ...(before ? { Before: before } : {}) });
    if (answer.ActionStatus !== "OK") return listing.replaceChildren(errorBox(answer));
    const calls = (answer.Calls as { Id: number; Command: string; Caller: string; ErrorCode: number; TimeMs: number; Ms: number }[]) ?? [];
    const next = Number(answer.Next);
    if (next) starts[index + 1] = next;
    shown = calls.map((c) => ({ Time: new Date(c.TimeMs).toLocaleString(), Command: c.Command, Caller: c.Caller, ErrorCode: c.ErrorCode, Ms: c.Ms }));
    listing.replaceChildren(
      calls.length === 0
        ? h("p", { class: "muted" }, "No calls yet.")
        : h(
            "div",
            { class: "table" },
            h(
              "table",
              { id: "rest-log" },
              h("caption", {}, "Latest REST calls, newest first"),
              h("thead", {}, h("tr", {}, ...["Time", "Command", "Caller", "Code", "Duration"].map((c) => h("th", { scope: "col" }, c)))),
              h(
                "tbody",
                {},
                ...calls.map((c) =>
                  h(
                    "tr",
                    {},
                    h("td", {}, new Date(c.TimeMs).toLocaleString()),
                    h("td", {}, h("code", {}, c.Command)),
                    h("td", {}, c.Caller),
                    h("td", { class: c.ErrorCode ? "code-fail" : "code-ok" }, String(c.ErrorCode)),
                    h("td", {}, `${c.Ms} ms`),
                  ),
                ),
              ),
            ),
          ),
      h(
        "nav",
        { class: "pager", "aria-label": "pages of the call log" },
        h("button", { type: "button", class: "secondary", disabled: index === 0, onclick: () => ((index -= 1), load()) }, "Newer"),
        h("span", {}, `page ${index + 1}`),
        h("button", { type: "button", class: "secondary", disabled: !next, onclick: () => ((index += 1), load()) }, "Older"),
        h("button", { type: "button", class: "secondary", onclick: () => ((index = 0), (starts.length = 1), load()) }, "Refresh"),
        h("button", { type: "button", class: "secondary", onclick: () => downloadCsv(`edge-im-${sdkAppId}-rest-log.csv`, shown) }, "Export CSV"),
      ),
    );
  };
  void loading(load());
  return h(
    "section",
    { class: "card wide", "aria-labelledby": "h-log" },
    h("h2", { id: "h-log" }, "REST call log"),
    h("p", { class: "muted" }, "The last 1,000 calls the app's backend made to /v4 (the console's own actions are not listed): command, the caller its URL names, code and time; never bodies or signatures. A call shows here about a second after its answer."),
    listing,
  );
}
