-- Statistics per app and per day (openconfigsvr/getappinfo), counted as the actors work.
-- `day` is the UTC day as YYYYMMDD; day 0 holds running totals (registered users, groups, users
-- online now) from which each day's total is worked out backwards (src/domain/stats.ts).
CREATE TABLE app_stats (
  sdkappid INTEGER NOT NULL,
  day      INTEGER NOT NULL,
  field    TEXT NOT NULL,
  value    INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (sdkappid, day, field)
) WITHOUT ROWID;

-- A few figures per minute for the last day (edgeim_ops_svc/get_realtime_stats): counts are
-- placed in the minute their batch reached D1, at most a few seconds after they happened.
CREATE TABLE app_stats_minutes (
  sdkappid INTEGER NOT NULL,
  minute   INTEGER NOT NULL,  -- unix minutes
  field    TEXT NOT NULL,
  value    INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (sdkappid, minute, field)
) WITHOUT ROWID;

-- The last batch of counts each Durable Object added (src/store/stats.ts): a batch sent again
-- after a crash between D1's commit and the object's own is not counted twice.
CREATE TABLE stats_flushes (
  source TEXT PRIMARY KEY,
  seq    INTEGER NOT NULL
) WITHOUT ROWID;

-- Registrations are counted by the table that holds them, in the same transaction.
CREATE TRIGGER accounts_stats_added AFTER INSERT ON accounts BEGIN
  INSERT INTO app_stats (sdkappid, day, field, value)
    VALUES (NEW.sdkappid, CAST(strftime('%Y%m%d', 'now') AS INTEGER), 'RegistUserNumOneDay', 1)
    ON CONFLICT DO UPDATE SET value = value + 1;
  INSERT INTO app_stats (sdkappid, day, field, value) VALUES (NEW.sdkappid, 0, 'RegistUserNumTotal', 1)
    ON CONFLICT DO UPDATE SET value = value + 1;
END;
CREATE TRIGGER accounts_stats_removed AFTER DELETE ON accounts BEGIN
  INSERT INTO app_stats (sdkappid, day, field, value)
    VALUES (OLD.sdkappid, CAST(strftime('%Y%m%d', 'now') AS INTEGER), 'RegistUserNumDeleted', 1)
    ON CONFLICT DO UPDATE SET value = value + 1;
  INSERT INTO app_stats (sdkappid, day, field, value) VALUES (OLD.sdkappid, 0, 'RegistUserNumTotal', -1)
    ON CONFLICT DO UPDATE SET value = value - 1;
END;

-- Relationship chains are pairs of users: a pair begins with its first direction and ends with its last.
CREATE TRIGGER friends_stats_added AFTER INSERT ON friends
WHEN NOT EXISTS (SELECT 1 FROM friends WHERE sdkappid = NEW.sdkappid AND owner = NEW.friend AND friend = NEW.owner)
BEGIN
  INSERT INTO app_stats (sdkappid, day, field, value)
    VALUES (NEW.sdkappid, CAST(strftime('%Y%m%d', 'now') AS INTEGER), 'ChainIncrease', 1)
    ON CONFLICT DO UPDATE SET value = value + 1;
END;
CREATE TRIGGER friends_stats_removed AFTER DELETE ON friends
WHEN NOT EXISTS (SELECT 1 FROM friends WHERE sdkappid = OLD.sdkappid AND owner = OLD.friend AND friend = OLD.owner)
BEGIN
  INSERT INTO app_stats (sdkappid, day, field, value)
    VALUES (OLD.sdkappid, CAST(strftime('%Y%m%d', 'now') AS INTEGER), 'ChainDecrease', 1)
    ON CONFLICT DO UPDATE SET value = value + 1;
END;

-- Totals start from what exists already.
INSERT INTO app_stats (sdkappid, day, field, value) SELECT sdkappid, 0, 'RegistUserNumTotal', COUNT(*) FROM accounts GROUP BY sdkappid;
INSERT INTO app_stats (sdkappid, day, field, value) SELECT sdkappid, 0, 'GroupAllGroupNum', COUNT(*) FROM groups GROUP BY sdkappid;

-- A user's global mute (openconfigsvr/setnospeaking): unix seconds until which it may not send
-- one-to-one or group messages; 0 is not muted, 4294967295 forever. Read with the account.
ALTER TABLE accounts ADD COLUMN c2c_mute_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN group_mute_until INTEGER NOT NULL DEFAULT 0;
