/**
 * Live rooms (AVChatRoom) on the groups page: each room's audience in the group list and when the
 * room is found (`get_online_member_num`, the sum of its shards' last reports), its shards (`edgeim_admin_svc/get_live_room`, on servers that
 * have it: a server without it answers 60009 and the page says so), and the app's live settings
 * (`edgeim_admin_svc/get_live_settings`, `set_live_settings`).
 */
import { type Answer } from "./api.ts";
import { actionCard, errorBox, h, loading, num, pagedTable, renderValue } from "./ui.ts";

type Run = (command: string, body: unknown) => Promise<Answer>;

/** The console door's answer for a command this server does not have. */
const noSuchCommand = 60009;
const rateLimited = 60007;

/** A live room's audience and shards, as shown when the room is found. */
export async function audience(run: Run, groupId: string): Promise<HTMLElement> {
  const [online, room] = await Promise.all([run("group_open_http_svc/get_online_member_num", { GroupId: groupId }), run("edgeim_admin_svc/get_live_room", { GroupId: groupId })]);
  return h(
    "div",
    { class: "sub live" },
    h("h3", {}, "Audience"),
    online.ActionStatus === "OK"
      ? h("p", {}, h("strong", { class: "big", "data-field": "OnlineMemberNum" }, String(online.OnlineMemberNum)), `${Number(online.OnlineMemberNum) === 1 ? " viewer" : " viewers"} online (as the shards last reported, about a second ago)`)
      : errorBox(online),
    h("h3", {}, "Shards"),
    shardsOf(room),
  );
}

function shardsOf(room: Answer): Node {
  if (room.ErrorCode === noSuchCommand) return h("p", { class: "muted" }, "This server does not list a room's shards.");
  if (room.ActionStatus !== "OK") return errorBox(room);
  const { ActionStatus: _s, ErrorCode: _c, ErrorInfo: _i, ...payload } = room;
  const shards = Object.values(payload).find((v) => Array.isArray(v) && v.every((s) => typeof s === "object" && s !== null)) as Record<string, unknown>[] | undefined;
  return shards ? pagedTable(shards, "Shards") : renderValue(payload);
}

/** Each live room's audience now ("error N" where it cannot be read). */
export async function liveAudiences(run: Run, groupIds: string[]): Promise<Map<string, number | string>> {
  const counts = await Promise.all(groupIds.map((id) => run("group_open_http_svc/get_online_member_num", { GroupId: id })));
  return new Map(groupIds.map((id, i) => [id, counts[i]!.ActionStatus === "OK" ? Number(counts[i]!.OnlineMemberNum) : `error ${counts[i]!.ErrorCode}`]));
}

/** Tencent limits get_appid_group_list to 1 call a second per app; a page refused by it is asked again once the second has passed. */
export async function listGroups(run: Run, body: Record<string, unknown>, waiting: (note: string) => void): Promise<Answer> {
  for (let attempt = 1; ; attempt++) {
    const answer = await run("group_open_http_svc/get_appid_group_list", body);
    if (answer.ErrorCode !== rateLimited || attempt === 3) return answer;
    waiting("The group list is read at most once a second; asking again…");
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

const liveFields: [string, string, string][] = [
  ["ShardSize", "Viewers per shard", "How many viewers one shard holds before the next opens."],
  ["DirectFanout", "Shards the room calls itself", "Past this, shards pass messages on to their block."],
  ["TipsUpTo", "Join and quit tips up to", "Audience size above which joins and quits are not announced."],
  ["UnackedLimit", "Unacknowledged messages per viewer", "A viewer further behind is disconnected (4009)."],
  ["ShardDeliveriesPerSecond", "Deliveries per second per shard", "Past it a shard drops low priorities first."],
  ["MaxBans", "Bans per room", ""],
  ["KeepLast", "Messages kept for late joiners", ""],
];

/** The app's live settings, read and changed. */
export function liveSettingsCard(run: Run): HTMLElement {
  const holder = h("section", { class: "card" }, h("h2", {}, "Live settings"), h("p", { class: "muted" }, "Loading…"));
  void loading(
    run("edgeim_admin_svc/get_live_settings", {}).then((current) => {
      if (current.ActionStatus !== "OK") return holder.replaceChildren(h("h2", {}, "Live settings"), errorBox(current));
      holder.replaceWith(
        actionCard({
          title: "Live settings",
          description: "For every live room of the app; rooms and shards see a change within a minute.",
          fields: liveFields.map(([name, label, hint]) => ({ name, label, hint: hint || undefined, type: "number" as const, value: Number(current[name]), min: 0 })),
          submit: "Save live settings",
          run: (v) => run("edgeim_admin_svc/set_live_settings", Object.fromEntries(liveFields.filter(([n]) => num(v[n]) !== undefined).map(([n]) => [n, num(v[n])]))),
          render: () => h("p", { class: "ok", role: "status" }, "Live settings saved."),
        }),
      );
    }),
  );
  return holder;
}
