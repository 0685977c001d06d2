/** D1 access for the `apps` table. */
import { AppSettings, AppStatus, type App } from "../domain/app.ts";

interface AppRow {
  sdkappid: number;
  name: string;
  secret_key: string | null;
  public_key: string | null;
  admins: string;
  status: string;
  settings: string;
}

function fromRow(row: AppRow): App {
  return {
    sdkAppId: row.sdkappid,
    name: row.name,
    secretKey: row.secret_key ?? undefined,
    publicKey: row.public_key ?? undefined,
    admins: JSON.parse(row.admins) as string[],
    status: AppStatus.catch("disabled").parse(row.status),
    settings: AppSettings.catch(AppSettings.parse({})).parse(JSON.parse(row.settings)),
  };
}

export async function findApp(db: D1Database, sdkAppId: number): Promise<App | null> {
  const row = await db.prepare("SELECT * FROM apps WHERE sdkappid = ?").bind(sdkAppId).first<AppRow>();
  return row ? fromRow(row) : null;
}

export interface NewApp {
  sdkAppId?: number;
  name?: string;
  secretKey?: string;
  publicKey?: string;
  admins: string[];
  settings?: Partial<AppSettings>;
}

/**
 * Creates an app. Without a SDKAppID one is drawn from Tencent's 14xxxxxxxx
 * range; without a secret key a random 256-bit one is made.
 */
export async function createApp(db: D1Database, init: NewApp): Promise<App> {
  const app: App = {
    sdkAppId: init.sdkAppId ?? randomSdkAppId(),
    name: init.name ?? "",
    secretKey: init.secretKey ?? (init.publicKey ? undefined : randomSecretKey()),
    publicKey: init.publicKey,
    admins: init.admins,
    status: "active",
    settings: AppSettings.parse(init.settings ?? {}),
  };
  await db
    .prepare(
      "INSERT INTO apps (sdkappid, name, secret_key, public_key, admins, status, settings, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(
      app.sdkAppId,
      app.name,
      app.secretKey ?? null,
      app.publicKey ?? null,
      JSON.stringify(app.admins),
      app.status,
      JSON.stringify(app.settings),
      Date.now(),
    )
    .run();
  return app;
}

/** Makes sure the default app has a row (for its status and settings); keys stay in configuration. */
export async function ensureAppRow(db: D1Database, sdkAppId: number, admins: string[]): Promise<void> {
  await db
    .prepare("INSERT OR IGNORE INTO apps (sdkappid, name, admins, created_at) VALUES (?, 'default', ?, ?)")
    .bind(sdkAppId, JSON.stringify(admins), Date.now())
    .run();
}

export async function updateApp(
  db: D1Database,
  sdkAppId: number,
  change: { status?: AppStatus; settings?: AppSettings },
): Promise<void> {
  if (change.status !== undefined) {
    await db.prepare("UPDATE apps SET status = ? WHERE sdkappid = ?").bind(change.status, sdkAppId).run();
  }
  if (change.settings !== undefined) {
    await db.prepare("UPDATE apps SET settings = ? WHERE sdkappid = ?").bind(JSON.stringify(change.settings), sdkAppId).run();
  }
}

function randomSdkAppId(): number {
  const [n] = crypto.getRandomValues(new Uint32Array(1));
  return 1_400_000_001 + (n! % 99_999_999);
}

export function randomSecretKey(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export interface AppListing {
  sdkAppId: number;
  name: string;
  admins: string[];
  status: AppStatus;
  createdAt: number;
}

/** One page of the deployment's apps, by SDKAppID, and the total. */
export async function listApps(db: D1Database, offset: number, limit: number): Promise<{ apps: AppListing[]; total: number }> {
  const [page, count] = await db.batch([
    db.prepare("SELECT sdkappid, name, admins, status, created_at FROM apps ORDER BY sdkappid LIMIT ? OFFSET ?").bind(limit, offset),
    db.prepare("SELECT COUNT(*) AS n FROM apps"),
  ]);
  const rows = (page!.results ?? []) as { sdkappid: number; name: string; admins: string; status: string; created_at: number }[];
  return {
    apps: rows.map((row) => ({
      sdkAppId: row.sdkappid,
      name: row.name,
      admins: JSON.parse(row.admins) as string[],
      status: AppStatus.catch("disabled").parse(row.status),
      createdAt: row.created_at,
    })),
    total: ((count!.results ?? [])[0] as { n: number } | undefined)?.n ?? 0,
  };
}

/** Replaces an app's secret key (not the default app's, whose key is configuration). */
export async function setSecretKey(db: D1Database, sdkAppId: number, secretKey: string): Promise<void> {
  await db.prepare("UPDATE apps SET secret_key = ? WHERE sdkappid = ?").bind(secretKey, sdkAppId).run();
}
