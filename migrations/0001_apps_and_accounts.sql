-- Apps (tenants). The default app's keys come from configuration, not this table;
-- its row holds status and settings.
CREATE TABLE apps (
  sdkappid   INTEGER PRIMARY KEY,
  name       TEXT NOT NULL DEFAULT '',
  secret_key TEXT,
  public_key TEXT,
  admins     TEXT NOT NULL DEFAULT '[]',   -- JSON array of admin identifiers
  status     TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  settings   TEXT NOT NULL DEFAULT '{}',   -- JSON, see src/domain/app.ts AppSettings
  created_at INTEGER NOT NULL
);

-- Imported accounts of every app.
CREATE TABLE accounts (
  sdkappid   INTEGER NOT NULL,
  user_id    TEXT NOT NULL,
  nick       TEXT NOT NULL DEFAULT '',
  face_url   TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  PRIMARY KEY (sdkappid, user_id)
) WITHOUT ROWID;
