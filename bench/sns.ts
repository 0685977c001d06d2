/**
 * `npm run bench:sns`: relationship-chain and profile reads against
 * `wrangler dev` (fresh state, tracing off): friend_get for a user with 3,000
 * friends, friend_check of 500 ids, portrait_get of 100 users. Prints median
 * and p99 latency and the D1 rows each call read (from the server's log
 * line); the last line is one JSON object with those figures.
 *
 * Options: --runs N (50).
 */
import type { DefaultAppConfig } from "../scripts/config.ts";
import { startServerWithOwnKey, type RunningServer } from "../scripts/dev-server.ts";
import { generateUserSig } from "../src/domain/usersig.ts";

const runsIndex = process.argv.indexOf("--runs");
const runs = runsIndex > 0 ? Number(process.argv[runsIndex + 1]) : 50;

async function restCaller(server: RunningServer, app: Required<DefaultAppConfig>) {
  const admin = app.admins[0]!;
  const userSig = await generateUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier: admin });
  return async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const url = `${server.base}/v4/${path}?sdkappid=${app.sdkAppId}&identifier=${admin}&usersig=${userSig}&random=1&contenttype=json`;
    for (;;) {
      const answer = (await (await fetch(url, { method: "POST", body: JSON.stringify(body) })).json()) as Record<string, unknown>;
      if (answer.ErrorCode === 60007) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (answer.ErrorCode !== 0) throw new Error(`${path}: ${JSON.stringify(answer).slice(0, 300)}`);
      return answer;
    }
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** The d1RowsRead of the server's log lines for `command`, in order. */
function rowsReadLog(server: RunningServer, command: string): number[] {
  return server
    .output()
    .split("\n")
    .filter((line) => line.startsWith('{"event":"rest"') && line.includes(`"command":"${command}"`))
    .map((line) => (JSON.parse(line) as { d1RowsRead: number }).d1RowsRead);
}

async function measure(server: RunningServer, label: string, command: string, call: () => Promise<unknown>) {
  const before = rowsReadLog(server, command).length;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await call();
    times.push(performance.now() - started);
  }
  await new Promise((r) => setTimeout(r, 300));
  const rows = rowsReadLog(server, command).slice(before);
  const figures = { medianMs: round(percentile(times, 50)), p99Ms: round(percentile(times, 99)), d1RowsRead: rows.length > 0 ? percentile(rows, 50) : null };
  console.log(`${label}: median ${figures.medianMs} ms, p99 ${figures.p99Ms} ms, D1 rows read per call ${figures.d1RowsRead} (${runs} runs)`);
  return figures;
}

async function main(): Promise<void> {
  const { server, app } = await startServerWithOwnKey();
  try {
    const rest = await restCaller(server, app);
    const stamp = Date.now().toString(36);
    const owner = `sns_owner_${stamp}`;
    const friends = Array.from({ length: 3000 }, (_, i) => `sns_f${i}_${stamp}`);
    const strangers = Array.from({ length: 100 }, (_, i) => `sns_s${i}_${stamp}`);
    const all = [owner, ...friends, ...strangers];
    console.log(`sns benchmark: importing ${all.length} accounts and 3,000 friends`);
    for (let i = 0; i < all.length; i += 100) await rest("im_open_login_svc/multiaccount_import", { Accounts: all.slice(i, i + 100) });
    for (let i = 0; i < friends.length; i += 100) {
      await rest("sns/friend_import", { From_Account: owner, AddFriendItem: friends.slice(i, i + 100).map((To_Account) => ({ To_Account, AddSource: "AddSource_Type_Bench" })) });
    }
    const profiled = friends.slice(0, 100);
    for (const id of profiled) {
      await rest("profile/portrait_set", { From_Account: id, ProfileItem: [{ Tag: "Tag_Profile_IM_Nick", Value: `Nick ${id}` }, { Tag: "Tag_Profile_IM_Image", Value: `https://img.example/${id}.png` }] });
    }
    const checked = [...friends.slice(0, 400), ...strangers];

    const friendGetPage = await measure(server, "friend_get, first page of 3,000 friends", "sns/friend_get", () => rest("sns/friend_get", { From_Account: owner, StartIndex: 0 }));
    let pages = 0;
    const friendGetAll = await measure(server, "friend_get, all 3,000 friends (30 pages)", "sns/friend_get", async () => {
      for (let start = 0; ; ) {
        const page = await rest("sns/friend_get", { From_Account: owner, StartIndex: start });
        pages++;
        if (page.CompleteFlag === 1) break;
        start = page.NextStartIndex as number;
      }
    });
    const friendCheck = await measure(server, "friend_check of 500 ids", "sns/friend_check", () =>
      rest("sns/friend_check", { From_Account: owner, To_Account: checked, CheckType: "CheckResult_Type_Both" }),
    );
    const portraitGet = await measure(server, "portrait_get of 100 users", "profile/portrait_get", () =>
      rest("profile/portrait_get", { To_Account: profiled, TagList: ["Tag_Profile_IM_Nick", "Tag_Profile_IM_Image"] }),
    );
    console.log(
      JSON.stringify({
        runs,
        friendGetPage,
        friendGetAll: { ...friendGetAll, d1RowsRead: null, pagesPerRun: pages / runs },
        friendCheck500: friendCheck,
        portraitGet100: portraitGet,
      }),
    );
  } finally {
    await server.stop();
  }
}

await main();
