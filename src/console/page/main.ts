/**
 * edge-im's console: one page, hash routes. Every action runs a REST command through
 * /console/api (the same commands an app's backend calls on /v4).
 *
 *   #/signin                 sign in (console key, or SDKAppID and secret key)
 *   #/apps                   the deployment's apps (its operator only)
 *   #/app/<id>/<page>        settings, users, messages, groups, stats, ops of one app
 */
import { call, loadSession, signIn, signOut, whenSignedOut, type Answer, type Session } from "./api.ts";
import { audience, listGroups, liveAudiences, liveSettingsCard } from "./live.ts";
import { operationsPage } from "./ops.ts";
import { statisticsPage } from "./stats.ts";
import { actionCard, errorBox, h, list, loading, newPage, num, pagedTable, random32, renderValue, type Values } from "./ui.ts";

const main = document.getElementById("main")!;
const nav = document.getElementById("nav")!;
const who = document.getElementById("who")!;
let session: Session = { SignedIn: false, ConsoleKeyConfigured: false };

const appPages = [
  ["settings", "App"],
  ["users", "Users"],
  ["messages", "Messages"],
  ["groups", "Groups"],
  ["stats", "Statistics"],
  ["ops", "Operations"],
] as const;
type AppPage = (typeof appPages)[number][0];

whenSignedOut((reason) => {
  session = { SignedIn: false, ConsoleKeyConfigured: session.ConsoleKeyConfigured, ErrorInfo: reason };
  location.hash = "#/signin";
  void route();
});

window.addEventListener("hashchange", () => void route());
void start();

async function start(): Promise<void> {
  session = await loadSession();
  await route();
}

function home(): string {
  if (!session.SignedIn) return "#/signin";
  return session.Role === "Deployment" ? "#/apps" : `#/app/${session.SdkAppId}/settings`;
}

async function route(): Promise<void> {
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  if (!session.SignedIn && parts[0] !== "signin") return void (location.hash = "#/signin");
  if (session.SignedIn && (parts[0] === "signin" || parts[0] === "")) return void (location.hash = home());
  renderChrome(parts);
  newPage();
  if (parts[0] === "signin") return show("Sign in", signInPage());
  if (parts[0] === "apps" && session.Role === "Deployment") return show("Apps", appsPage());
  if (parts[0] === "app" && /^\d+$/.test(parts[1] ?? "")) {
    const sdkAppId = Number(parts[1]);
    const page = (appPages.find(([p]) => p === parts[2])?.[0] ?? "settings") as AppPage;
    if (session.Role === "App" && sdkAppId !== session.SdkAppId) {
      return show("Not yours", h("section", { class: "card" }, errorBox({ ActionStatus: "FAIL", ErrorCode: 60010, ErrorInfo: `this session belongs to app ${session.SdkAppId}` })));
    }
    const title = `${appPages.find(([p]) => p === page)![1]} · ${sdkAppId}`;
    if (page === "settings") return show(title, appSettingsPage(sdkAppId));
    if (page === "users") return show(title, usersPage(sdkAppId));
    if (page === "messages") return show(title, messagesPage(sdkAppId));
    if (page === "groups") return show(title, groupsPage(sdkAppId));
    if (page === "ops") return show(title, operationsPage(sdkAppId));
    return show(title, statisticsPage(sdkAppId));
  }
  location.hash = home();
}

function show(title: string, content: Node): void {
  document.title = `${title} · edge-im console`;
  main.replaceChildren(h("h1", { tabindex: -1 }, title), content);
  (main.firstElementChild as HTMLElement).focus();
}

function renderChrome(parts: string[]): void {
  const links: HTMLElement[] = [];
  const link = (href: string, label: string, current: boolean) => h("a", { href, "aria-current": current ? "page" : undefined }, label);
  if (session.Role === "Deployment") links.push(link("#/apps", "Apps", parts[0] === "apps"));
  if (parts[0] === "app" && parts[1]) {
    for (const [page, label] of appPages) links.push(link(`#/app/${parts[1]}/${page}`, label, (parts[2] ?? "settings") === page));
  }
  nav.replaceChildren(...links);
  who.replaceChildren(
    ...(session.SignedIn
      ? [
          h("span", {}, session.Role === "Deployment" ? "Deployment operator" : `App ${session.SdkAppId}`),
          h("button", { type: "button", id: "sign-out", onclick: async () => (await signOut(), (session = await loadSession()), (location.hash = "#/signin"), route()) }, "Sign out"),
        ]
      : []),
  );
}

// ---------------------------------------------------------------- sign-in

function signInPage(): HTMLElement {
  const done = async (answer: Answer) => {
    if (answer.ActionStatus === "OK") {
      session = await loadSession();
      location.hash = home();
    }
    return answer;
  };
  const notice = session.ErrorInfo && session.ErrorInfo !== "not signed in: sign in to the console first" ? h("p", { class: "error", role: "alert" }, session.ErrorInfo) : null;
  const deployment = session.ConsoleKeyConfigured
    ? actionCard({
        title: "Deployment operator",
        description: "Sign in with the console key (IM_CONSOLE_KEY) to create apps and see all of them.",
        fields: [{ name: "key", label: "Console key", type: "password", required: true }],
        submit: "Sign in",
        run: (v) => signIn({ ConsoleKey: String(v.key) }).then(done),
        render: () => h("p", { class: "ok" }, "Signed in."),
      })
    : h(
        "section",
        { class: "card" },
        h("h2", {}, "Deployment operator"),
        h("p", { class: "muted" }, "This deployment has no console key (IM_CONSOLE_KEY), so only app operators can sign in. Set it with `wrangler secret put IM_CONSOLE_KEY`."),
      );
  const app = actionCard({
    title: "App operator",
    description: "Sign in with your app's SDKAppID and secret key to manage that app.",
    fields: [
      { name: "sdkAppId", label: "SDKAppID", type: "number", required: true, min: 1 },
      { name: "secret", label: "Secret key", type: "password", required: true },
    ],
    submit: "Sign in",
    run: (v) => signIn({ SdkAppId: Number(v.sdkAppId), SecretKey: String(v.secret) }).then(done),
    render: () => h("p", { class: "ok" }, "Signed in."),
  });
  return h("div", { class: "grid" }, ...(notice ? [notice] : []), deployment, app);
}

// ---------------------------------------------------------------- apps

function appsPage(): HTMLElement {
  const listing = h("div", { "aria-live": "polite" }, h("p", { class: "muted" }, "Loading…"));
  const limit = 20;
  const load = async (offset: number) => {
    const answer = await call("edgeim_console_svc/list_apps", { Offset: offset, Limit: limit });
    if (answer.ActionStatus !== "OK") return listing.replaceChildren(errorBox(answer));
    const apps = answer.Apps as Record<string, unknown>[];
    const total = Number(answer.TotalCount);
    const table = h(
      "table",
      {},
      h("thead", {}, h("tr", {}, ...["SDKAppID", "Name", "Status", "Admins", "Created"].map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        {},
        ...apps.map((a) =>
          h(
            "tr",
            {},
            h("td", {}, h("a", { href: `#/app/${a.SdkAppId}/settings` }, String(a.SdkAppId))),
            h("td", {}, `${a.Name}${a.IsDefault ? " (default)" : ""}`),
            h("td", {}, h("span", { class: `status ${String(a.Status).toLowerCase()}` }, String(a.Status))),
            h("td", {}, (a.Admins as string[]).join(", ")),
            h("td", {}, new Date(Number(a.CreateTime) * 1000).toLocaleDateString()),
          ),
        ),
      ),
    );
    const pager = h(
      "nav",
      { class: "pager", "aria-label": "pages" },
      h("button", { type: "button", disabled: offset === 0, onclick: () => load(Math.max(0, offset - limit)) }, "Previous"),
      h("span", {}, `${offset + 1}–${offset + apps.length} of ${total}`),
      h("button", { type: "button", disabled: offset + limit >= total, onclick: () => load(offset + limit) }, "Next"),
    );
    listing.replaceChildren(h("div", { class: "table" }, table), pager);
  };
  void loading(load(0));
  const create = actionCard({
    title: "Create an app",
    fields: [
      { name: "name", label: "Name", placeholder: "My shop" },
      { name: "admins", label: "Admin accounts", placeholder: "administrator", hint: "Comma-separated; the app's backend signs REST calls as one of them." },
      { name: "sdkAppId", label: "SDKAppID (optional)", type: "number", hint: "Left empty, one is drawn from 14xxxxxxxx." },
    ],
    submit: "Create",
    run: (v) =>
      call("edgeim_console_svc/create_app", {
        Name: v.name,
        ...(list(v.admins).length ? { Admins: list(v.admins) } : {}),
        ...(num(v.sdkAppId) !== undefined ? { SdkAppId: num(v.sdkAppId) } : {}),
      }),
    render: (a) => {
      void load(0);
      return h(
        "div",
        { class: "secret", role: "status" },
        h("p", {}, "App ", h("a", { href: `#/app/${a.SdkAppId}/settings`, id: "created-app" }, String(a.SdkAppId)), " created. Its secret key is shown only now: keep it in your backend."),
        h("dl", {}, h("dt", {}, "SDKAppID"), h("dd", { id: "created-sdkappid" }, String(a.SdkAppId)), h("dt", {}, "Secret key"), h("dd", {}, h("code", { id: "created-key" }, String(a.SecretKey))), h("dt", {}, "Admins"), h("dd", {}, (a.Admins as string[]).join(", "))),
      );
    },
  });
  return h("div", { class: "grid" }, create, h("section", { class: "card wide" }, h("h2", {}, "All apps"), listing));
}

// ---------------------------------------------------------------- one app

/** The settings form's fields: [path in AppSettings, label, hint]. */
const numberSettings: [string, string, string][] = [
  ["recallWindowSeconds", "Recall window (seconds)", "How long after sending a user may recall a message. 0 or more."],
  ["retentionDays", "History retention (days)", "1 to 3650."],
  ["restRateLimit", "REST calls per second per command", "At least 1."],
  ["connectionFrameRate", "Frames per second per connection", "At least 1."],
  ["fanoutHubs", "Fan-out hubs", "1 to 1024; raise as online users grow."],
  ["loginPolicy.web", "Web connections per user", "1 to 10."],
  ["loginPolicy.mobile", "Mobile connections per user", "1 to 3."],
  ["loginPolicy.pad", "Pad connections per user", "1 to 3."],
  ["loginPolicy.desktop", "Desktop connections per user", "1 to 3."],
  ["groups.maxGroupsPerUser", "Groups per user", "At least 1."],
  ["groups.messagesPerSecond", "Messages per second per group", "At least 1."],
  ["groups.maxMembers.Private", "Members of a Work group", "At least 1."],
  ["groups.maxMembers.Public", "Members of a Public group", "At least 1."],
  ["groups.maxMembers.ChatRoom", "Members of a Meeting group", "At least 1."],
  ["groups.maxMembers.Community", "Members of a Community", "At least 1."],
];

function getPath(object: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), object);
}

function setPath(object: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let target = object;
  for (const key of keys.slice(0, -1)) target = (target[key] ??= {}) as Record<string, unknown>;
  target[keys.at(-1)!] = value;
}

function appSettingsPage(sdkAppId: number): HTMLElement {
  const page = h("div", { class: "grid" }, h("p", { class: "muted" }, "Loading…"));
  void loading((async () => {
    const [app, callbacks] = await Promise.all([call("edgeim_admin_svc/get_app", {}, sdkAppId), call("edgeim_admin_svc/get_callback", {}, sdkAppId)]);
    if (app.ActionStatus !== "OK") return page.replaceChildren(errorBox(app));
    const settings = app.Settings as Record<string, unknown>;
    const overview = h(
      "section",
      { class: "card" },
      h("h2", {}, app.Name ? String(app.Name) : `App ${sdkAppId}`),
      renderValue({ SDKAppID: app.SdkAppId, Status: app.Status, Admins: (app.Admins as string[]).join(", ") }),
    );
    const status = actionCard({
      title: app.Status === "Active" ? "Disable the app" : "Enable the app",
      description:
        app.Status === "Active"
          ? "REST calls and new logins are refused with 60016 at once; connected users are logged out at their next action, within a minute."
          : "The app answers again at once.",
      fields: [],
      submit: app.Status === "Active" ? "Disable" : "Enable",
      danger: app.Status === "Active",
      confirm: () => (app.Status === "Active" ? `Disable app ${sdkAppId}? Its users are disconnected.` : `Enable app ${sdkAppId}?`),
      run: (_v) => call("edgeim_admin_svc/set_app_status", { Status: app.Status === "Active" ? "Disabled" : "Active" }, sdkAppId),
      render: (a) => {
        setTimeout(() => void route(), 600);
        return h("p", { class: "ok", role: "status" }, `The app is now ${String(a.Status).toLowerCase()}.`);
      },
    });
    const rotate = actionCard({
      title: "Rotate the secret key",
      description: "The old key stops at once for REST; devices logging in see the new key within a minute. App operators sign in again with the new key.",
      fields: [],
      submit: "Rotate",
      danger: true,
      confirm: () => `Give app ${sdkAppId} a new secret key? UserSigs signed with the old key stop working.`,
      run: () => call("edgeim_admin_svc/rotate_secret_key", {}, sdkAppId),
      render: (a) => h("div", { class: "secret", role: "status" }, h("p", {}, "The new secret key, shown only now:"), h("code", {}, String(a.SecretKey))),
    });
    const form = actionCard({
      title: "Settings",
      description: "Each change is checked; a value out of range is refused with its name and nothing changes.",
      fields: [
        ...numberSettings.map(([path, label, hint]) => ({ name: path, label, hint, type: "number" as const, value: getPath(settings, path) as number })),
        { name: "requireFriendship", label: "One-to-one messages only between friends", type: "checkbox", value: Boolean(settings.requireFriendship) },
        { name: "groups.inviteeMustAccept", label: "Work group invitees must accept", type: "checkbox", value: Boolean(getPath(settings, "groups.inviteeMustAccept")) },
        { name: "profileCustomTags", label: "Custom profile tags", value: (settings.profileCustomTags as string[]).join(", "), hint: "Tag_Profile_Custom_ and 1–8 letters, comma-separated." },
        { name: "friendCustomTags", label: "Custom friend tags", value: (settings.friendCustomTags as string[]).join(", "), hint: "Tag_SNS_Custom_ and 1–8 letters, comma-separated." },
        { name: "commandRateLimits", label: "Per-command REST limits (JSON)", type: "textarea", value: JSON.stringify(settings.commandRateLimits), hint: '{"openim/sendmsg": 100}' },
      ],
      submit: "Save settings",
      run: async (v: Values) => {
        const change: Record<string, unknown> = {};
        for (const [path] of numberSettings) if (num(v[path]) !== undefined) setPath(change, path, num(v[path]));
        setPath(change, "requireFriendship", v.requireFriendship);
        setPath(change, "groups.inviteeMustAccept", v["groups.inviteeMustAccept"]);
        change.profileCustomTags = list(v.profileCustomTags);
        change.friendCustomTags = list(v.friendCustomTags);
        try {
          change.commandRateLimits = JSON.parse(String(v.commandRateLimits || "{}"));
        } catch {
          return { ActionStatus: "FAIL", ErrorCode: 60003, ErrorInfo: "Per-command REST limits: not valid JSON" };
        }
        return call("edgeim_admin_svc/set_app_settings", { Settings: change }, sdkAppId);
      },
      render: () => h("p", { class: "ok", role: "status" }, "Settings saved."),
    });
    const callbackForm = actionCard({
      title: "Callbacks",
      description: "Where edge-im calls your backend before and after events. An empty URL turns callbacks off.",
      fields: [
        { name: "url", label: "Callback URL", value: String(callbacks.CallbackUrl ?? ""), placeholder: "https://backend.example/im" },
        {
          name: "commands",
          label: "Callback commands",
          value: Array.isArray(callbacks.CallbackCommands) ? (callbacks.CallbackCommands as string[]).join(", ") : String(callbacks.CallbackCommands ?? ""),
          hint: "Comma-separated (C2C.CallbackBeforeSendMsg, …), or * for all.",
        },
        { name: "token", label: "Token", type: "password", hint: callbacks.HasToken ? "A token is set; leave empty to keep it." : "Signs each request; optional." },
        { name: "timeout", label: "Timeout (ms)", type: "number", value: Number(callbacks.TimeoutMs) || 2000, min: 100, max: 10000 },
        { name: "onTimeout", label: "When the backend does not answer", type: "select", options: ["Proceed", "Refuse"], value: String(callbacks.OnTimeout ?? "Proceed") },
      ],
      submit: "Save callbacks",
      run: (v) =>
        call(
          "edgeim_admin_svc/set_callback",
          {
            CallbackUrl: v.url,
            CallbackCommands: String(v.commands).trim() === "*" ? "*" : list(v.commands),
            ...(v.token ? { Token: v.token } : {}),
            TimeoutMs: num(v.timeout),
            OnTimeout: v.onTimeout,
          },
          sdkAppId,
        ),
      render: () => h("p", { class: "ok", role: "status" }, "Callbacks saved."),
    });
    page.replaceChildren(overview, status, ...(session.Role === "Deployment" || app.Status === "Active" ? [rotate] : []), form, callbackForm);
  })());
  return page;
}

function usersPage(sdkAppId: number): HTMLElement {
  const run = (command: string, body: unknown) => call(command, body, sdkAppId);
  const importCard = actionCard({
    title: "Import a user",
    fields: [
      { name: "id", label: "User ID", required: true },
      { name: "nick", label: "Nickname" },
      { name: "face", label: "Avatar URL" },
    ],
    submit: "Import",
    run: (v) => run("im_open_login_svc/account_import", { UserID: v.id, ...(v.nick ? { Nick: v.nick } : {}), ...(v.face ? { FaceUrl: v.face } : {}) }),
    render: (_a, v) => h("p", { class: "ok", role: "status" }, `Imported ${v.id}.`),
  });
  const find = actionCard({
    title: "Find a user",
    description: "Profile, friends, blocklist, groups and online devices.",
    fields: [{ name: "id", label: "User ID", required: true }],
    submit: "Find",
    run: async (v) => {
      const id = String(v.id);
      const [profile, friends, blocked, groups, online] = await Promise.all([
        run("profile/portrait_get", { To_Account: [id], TagList: ["Tag_Profile_IM_Nick", "Tag_Profile_IM_Image", "Tag_Profile_IM_SelfSignature", "Tag_Profile_IM_AllowType"] }),
        run("sns/friend_get", { From_Account: id, StartIndex: 0 }),
        run("sns/black_list_get", { From_Account: id, StartIndex: 0, MaxLimited: 100 }),
        run("group_open_http_svc/get_joined_group_list", { Member_Account: id, Limit: 100 }),
        run("openim/query_online_status", { To_Account: [id], IsNeedDetail: 1 }),
      ]);
      return { ActionStatus: profile.ActionStatus, ErrorCode: profile.ErrorCode, ErrorInfo: profile.ErrorInfo, profile, friends, blocked, groups, online };
    },
    render: (a) => {
      const section = (title: string, answer: Answer, pick: (x: Answer) => unknown) =>
        h("div", { class: "sub" }, h("h3", {}, title), answer.ActionStatus === "OK" ? renderValue(pick(answer) ?? []) : errorBox(answer));
      const profile = a.profile as Answer;
      const item = (profile.UserProfileItem as { ProfileItem?: { Tag: string; Value: unknown }[]; ResultCode?: number }[] | undefined)?.[0];
      return h(
        "div",
        { class: "ok-result" },
        section("Profile", profile, () => (item?.ProfileItem ?? []).map((p) => ({ Tag: p.Tag, Value: p.Value }))),
        section("Online devices", a.online as Answer, (x) => x.QueryResult),
        section("Friends", a.friends as Answer, (x) => (x.UserDataItem as { To_Account: string }[] | undefined)?.map((f) => ({ UserID: f.To_Account }))),
        section("Blocklist", a.blocked as Answer, (x) => x.BlackListItem),
        section("Groups", a.groups as Answer, (x) => x.GroupIdList),
      );
    },
  });
  const kick = actionCard({
    title: "Kick a user",
    description: "Logs the user out on every device.",
    fields: [{ name: "id", label: "User ID", required: true }],
    submit: "Kick",
    danger: true,
    confirm: (v) => `Log ${v.id} out everywhere?`,
    run: (v) => run("im_open_login_svc/kick", { UserID: v.id }),
    render: (_a, v) => h("p", { class: "ok", role: "status" }, `${v.id} was logged out.`),
  });
  const mint = actionCard({
    title: "UserSig for testing",
    description: "Signs a UserSig with the app's key, to try a client. Your backend signs real ones.",
    fields: [
      { name: "id", label: "User ID", required: true },
      { name: "expire", label: "Valid for (seconds)", type: "number", value: 86400, min: 60, max: 2592000 },
    ],
    submit: "Sign",
    run: (v) => run("edgeim_admin_svc/mint_usersig", { UserID: v.id, Expire: num(v.expire) }),
    render: (a) => h("div", { class: "secret", role: "status" }, h("code", { class: "usersig" }, String(a.UserSig)), h("p", { class: "muted" }, `Expires ${new Date(Number(a.ExpireTime) * 1000).toLocaleString()}`)),
  });
  return h("div", { class: "grid" }, importCard, find, kick, mint);
}

function textBody(text: string): unknown[] {
  return [{ MsgType: "TIMTextElem", MsgContent: { Text: text } }];
}

function messagesPage(sdkAppId: number): HTMLElement {
  const run = (command: string, body: unknown) => call(command, body, sdkAppId);
  const c2c = actionCard({
    title: "Send a one-to-one message",
    fields: [
      { name: "from", label: "From (empty: the app's admin)" },
      { name: "to", label: "To", required: true },
      { name: "text", label: "Text", type: "textarea", required: true },
    ],
    submit: "Send",
    run: (v) =>
      run("openim/sendmsg", { SyncOtherMachine: v.from ? 1 : 2, ...(v.from ? { From_Account: v.from } : {}), To_Account: v.to, MsgRandom: random32(), MsgBody: textBody(String(v.text)) }),
    render: (a) => h("p", { class: "ok", role: "status" }, `Sent. MsgKey ${a.MsgKey}`),
  });
  const group = actionCard({
    title: "Send a group message",
    fields: [
      { name: "group", label: "Group ID", required: true },
      { name: "from", label: "From (empty: the app's admin)" },
      { name: "text", label: "Text", type: "textarea", required: true },
    ],
    submit: "Send",
    run: (v) => run("group_open_http_svc/send_group_msg", { GroupId: v.group, ...(v.from ? { From_Account: v.from } : {}), Random: random32(), MsgBody: textBody(String(v.text)) }),
    render: (a) => h("p", { class: "ok", role: "status" }, `Sent. MsgSeq ${a.MsgSeq}`),
  });
  const notice = actionCard({
    title: "Send a group system notification",
    fields: [
      { name: "group", label: "Group ID", required: true },
      { name: "to", label: "Members (empty: everyone)", hint: "Comma-separated user IDs." },
      { name: "text", label: "Content", type: "textarea", required: true },
    ],
    submit: "Send",
    run: (v) => run("group_open_http_svc/send_group_system_notification", { GroupId: v.group, Content: v.text, ...(list(v.to).length ? { ToMembers_Account: list(v.to) } : {}) }),
  });
  const broadcast = actionCard({
    title: "Broadcast to every live room",
    description: "Sent at High priority to each of the app's live rooms (AVChatRoom), numbered in each room's own sequence. With many rooms this takes a while.",
    fields: [
      { name: "from", label: "From (empty: the app's admin)" },
      { name: "text", label: "Text", type: "textarea", required: true },
    ],
    submit: "Broadcast",
    confirm: () => "Send this to every live room of the app?",
    run: (v) => run("group_open_http_svc/send_broadcast_msg", { ...(v.from ? { From_Account: v.from } : {}), Random: random32(), MsgBody: textBody(String(v.text)) }),
    render: () => h("p", { class: "ok", role: "status" }, "Broadcast to every live room."),
  });
  const now = Math.floor(Date.now() / 1000);
  const c2cHistory = actionCard({
    title: "History between two users",
    fields: [
      { name: "a", label: "User", required: true },
      { name: "b", label: "Peer", required: true },
      { name: "days", label: "Last days", type: "number", value: 7, min: 1 },
    ],
    submit: "Read",
    run: (v) => run("openim/admin_getroammsg", { Operator_Account: v.a, Peer_Account: v.b, MaxCnt: 100, MinTime: now - 86400 * (num(v.days) ?? 7), MaxTime: Math.floor(Date.now() / 1000) + 60 }),
    render: (a) => pagedTable(((a.MsgList as Record<string, unknown>[]) ?? []).map(messageRow)),
  });
  const groupHistory = actionCard({
    title: "History of a group",
    fields: [
      { name: "group", label: "Group ID", required: true },
      { name: "count", label: "Messages", type: "number", value: 20, min: 1, max: 20 },
    ],
    submit: "Read",
    run: (v) => run("group_open_http_svc/group_msg_get_simple", { GroupId: v.group, ReqMsgNumber: num(v.count) ?? 20 }),
    render: (a) => pagedTable(((a.RspMsgList as Record<string, unknown>[]) ?? []).map(messageRow)),
  });
  const recallC2C = actionCard({
    title: "Recall a one-to-one message",
    fields: [
      { name: "from", label: "Sender", required: true },
      { name: "to", label: "Recipient", required: true },
      { name: "key", label: "MsgKey", required: true },
    ],
    submit: "Recall",
    danger: true,
    run: (v) => run("openim/admin_msgwithdraw", { From_Account: v.from, To_Account: v.to, MsgKey: v.key }),
  });
  const recallGroup = actionCard({
    title: "Recall a group message",
    fields: [
      { name: "group", label: "Group ID", required: true },
      { name: "seq", label: "MsgSeq", type: "number", required: true, min: 1 },
    ],
    submit: "Recall",
    danger: true,
    run: (v) => run("group_open_http_svc/group_msg_recall", { GroupId: v.group, MsgSeqList: [{ MsgSeq: num(v.seq) }] }),
  });
  return h("div", { class: "grid" }, c2c, group, notice, broadcast, c2cHistory, groupHistory, recallC2C, recallGroup);
}

/** A message of a history answer as one table row. */
function messageRow(m: Record<string, unknown>): Record<string, unknown> {
  const body = (m.MsgBody as { MsgType: string; MsgContent: { Text?: string } }[] | undefined) ?? [];
  const text = body.map((e) => (e.MsgType === "TIMTextElem" ? e.MsgContent.Text : `[${e.MsgType}]`)).join(" ");
  const time = Number(m.MsgTimeStamp ?? m.MsgTime ?? 0);
  return {
    Time: time ? new Date(time * 1000).toLocaleString() : "",
    From: m.From_Account,
    ...(m.MsgSeq !== undefined ? { MsgSeq: m.MsgSeq } : {}),
    ...(m.MsgKey !== undefined ? { MsgKey: m.MsgKey } : {}),
    Text: text,
    Recalled: m.MsgFlagBits === 1 || m.IsPlaceMsg === 1 ? "yes" : "",
  };
}

function groupsPage(sdkAppId: number): HTMLElement {
  const run = (command: string, body: unknown) => call(command, body, sdkAppId);
  const listing = h("div", { "aria-live": "polite" });
  const pages: number[] = [0];
  const load = async (index: number) => {
    listing.replaceChildren(h("progress", { "aria-label": "loading groups" }));
    const answer = await listGroups(run, { Limit: 20, Next: pages[index] }, (waiting) => listing.replaceChildren(h("progress", { "aria-label": "loading groups" }), h("p", { class: "muted small" }, waiting)));
    if (answer.ActionStatus !== "OK") return listing.replaceChildren(errorBox(answer));
    const ids = (answer.GroupIdList as { GroupId: string }[]).map((g) => g.GroupId);
    const info = ids.length ? await run("group_open_http_svc/get_group_info", { GroupIdList: ids }) : undefined;
    const groups = (info?.GroupInfo as Record<string, unknown>[]) ?? [];
    const audiences = await liveAudiences(run, groups.filter((g) => g.Type === "AVChatRoom").map((g) => String(g.GroupId)));
    const rows = groups.map((g) => ({
      GroupId: g.GroupId,
      Type: g.Type,
      Name: g.Name,
      Owner: g.Owner_Account,
      Members: g.MemberNum,
      // A live room's audience is not its members: its viewers online now.
      Online: audiences.get(String(g.GroupId)) ?? "",
    }));
    const next = Number(answer.Next);
    if (next) pages[index + 1] = next;
    listing.replaceChildren(
      rows.length ? pagedTable(rows, "Groups; a live room's Online is its audience now") : h("p", { class: "muted" }, "No groups yet."),
      h(
        "nav",
        { class: "pager", "aria-label": "pages" },
        h("button", { type: "button", disabled: index === 0, onclick: () => load(index - 1) }, "Previous"),
        h("span", {}, `page ${index + 1} of ${answer.TotalCount} groups`),
        h("button", { type: "button", disabled: !next, onclick: () => load(index + 1) }, "Next"),
        h("button", { type: "button", onclick: () => load(index) }, "Refresh"),
      ),
    );
  };
  void loading(load(0));
  const find = actionCard({
    title: "Find a group",
    fields: [{ name: "group", label: "Group ID", required: true }],
    submit: "Find",
    run: async (v) => {
      const [info, members] = await Promise.all([
        run("group_open_http_svc/get_group_info", { GroupIdList: [v.group] }),
        run("group_open_http_svc/get_group_member_info", { GroupId: v.group, Limit: 100, Offset: 0 }),
      ]);
      const group = (info.GroupInfo as Record<string, unknown>[] | undefined)?.[0];
      if (info.ActionStatus !== "OK" || !group || Number(group.ErrorCode)) return { ...info, ActionStatus: "FAIL", ErrorCode: Number(group?.ErrorCode ?? info.ErrorCode), ErrorInfo: String(group?.ErrorInfo ?? info.ErrorInfo) };
      // A live room keeps no member list: its audience and shards instead.
      const live = group.Type === "AVChatRoom" ? await audience(run, String(v.group)) : undefined;
      return { ...info, group, members, live };
    },
    render: (a) => {
      const { MemberList: _m, AppDefinedData: _d, ...group } = a.group as Record<string, unknown>;
      const members = a.members as Answer;
      return h(
        "div",
        { class: "ok-result" },
        renderValue(group),
        ...(a.live
          ? [a.live as HTMLElement]
          : [
              h("h3", {}, "Members"),
              members.ActionStatus === "OK" ? pagedTable(((members.MemberList as Record<string, unknown>[]) ?? []).map((m) => ({ UserID: m.Member_Account, Role: m.Role, JoinTime: m.JoinTime, MutedUntil: m.ShutUpUntil }))) : errorBox(members),
            ]),
      );
    },
  });
  const add = actionCard({
    title: "Add members",
    fields: [
      { name: "group", label: "Group ID", required: true },
      { name: "members", label: "User IDs", required: true, hint: "Comma-separated." },
    ],
    submit: "Add",
    run: (v) => run("group_open_http_svc/add_group_member", { GroupId: v.group, MemberList: list(v.members).map((m) => ({ Member_Account: m })) }),
  });
  const remove = actionCard({
    title: "Remove members",
    fields: [
      { name: "group", label: "Group ID", required: true },
      { name: "members", label: "User IDs", required: true, hint: "Comma-separated." },
    ],
    submit: "Remove",
    danger: true,
    run: (v) => run("group_open_http_svc/delete_group_member", { GroupId: v.group, MemberToDel_Account: list(v.members) }),
  });
  const owner = actionCard({
    title: "Change the owner",
    fields: [
      { name: "group", label: "Group ID", required: true },
      { name: "owner", label: "New owner", required: true },
    ],
    submit: "Change owner",
    run: (v) => run("group_open_http_svc/change_group_owner", { GroupId: v.group, NewOwner_Account: v.owner }),
  });
  const mute = actionCard({
    title: "Mute members",
    fields: [
      { name: "group", label: "Group ID", required: true },
      { name: "members", label: "User IDs", required: true, hint: "Comma-separated." },
      { name: "seconds", label: "For (seconds; 0 unmutes)", type: "number", value: 3600, min: 0 },
    ],
    submit: "Mute",
    run: (v) => run("group_open_http_svc/forbid_send_msg", { GroupId: v.group, Members_Account: list(v.members), MuteTime: num(v.seconds) ?? 0 }),
  });
  const history = actionCard({
    title: "History before joining",
    description: "Whether new members read messages sent before they joined.",
    fields: [
      { name: "group", label: "Group ID", required: true },
      { name: "on", label: "History before joining", type: "select", options: ["On", "Off"] },
    ],
    submit: "Save",
    run: (v) => run("group_open_http_svc/modify_group_base_info", { GroupId: v.group, HistoryMsgBeforeJoin: v.on }),
  });
  const dismiss = actionCard({
    title: "Dismiss a group",
    fields: [{ name: "group", label: "Group ID", required: true }],
    submit: "Dismiss",
    danger: true,
    confirm: (v) => `Dismiss group ${v.group}? Its members and history are gone.`,
    run: (v) => run("group_open_http_svc/destroy_group", { GroupId: v.group }),
  });
  return h("div", { class: "grid" }, h("section", { class: "card wide" }, h("h2", {}, "Groups"), listing), find, add, remove, owner, mute, history, dismiss, liveSettingsCard(run));
}
