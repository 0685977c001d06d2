-- Profiles: one row per (user, tag). Values are JSON (strings or integers).
CREATE TABLE profiles (
  sdkappid   INTEGER NOT NULL,
  user_id    TEXT NOT NULL,
  tag        TEXT NOT NULL,
  value      TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (sdkappid, user_id, tag)
) WITHOUT ROWID;

-- Nick and FaceUrl given at account_import are the profile's Nick and Image tags.
INSERT INTO profiles (sdkappid, user_id, tag, value, updated_at)
  SELECT sdkappid, user_id, 'Tag_Profile_IM_Nick', json_quote(nick), created_at FROM accounts WHERE nick <> '';
INSERT INTO profiles (sdkappid, user_id, tag, value, updated_at)
  SELECT sdkappid, user_id, 'Tag_Profile_IM_Image', json_quote(face_url), created_at FROM accounts WHERE face_url <> '';
ALTER TABLE accounts DROP COLUMN nick;
ALTER TABLE accounts DROP COLUMN face_url;

-- Friends: owner has friend in their list (one row per direction). `pos` numbers
-- an owner's friends in the order they were added; friend_get pages by it.
CREATE TABLE friends (
  sdkappid    INTEGER NOT NULL,
  owner       TEXT NOT NULL,
  friend      TEXT NOT NULL,
  pos         INTEGER NOT NULL,
  remark      TEXT NOT NULL DEFAULT '',
  lists       TEXT NOT NULL DEFAULT '[]',   -- JSON array of friend-list names (Tag_SNS_IM_Group)
  add_source  TEXT NOT NULL DEFAULT '',
  add_wording TEXT NOT NULL DEFAULT '',
  add_time    INTEGER NOT NULL,
  custom      TEXT NOT NULL DEFAULT '{}',   -- Tag_SNS_Custom_* values
  PRIMARY KEY (sdkappid, owner, friend)
) WITHOUT ROWID;
CREATE INDEX friends_by_friend ON friends (sdkappid, friend);
CREATE UNIQUE INDEX friends_by_pos ON friends (sdkappid, owner, pos);

-- How many friends each owner has, kept by triggers so limits and FriendNum read one row.
CREATE TABLE friend_counts (
  sdkappid INTEGER NOT NULL,
  owner    TEXT NOT NULL,
  n        INTEGER NOT NULL,
  PRIMARY KEY (sdkappid, owner)
) WITHOUT ROWID;
CREATE TRIGGER friends_counted AFTER INSERT ON friends BEGIN
  INSERT INTO friend_counts (sdkappid, owner, n) VALUES (NEW.sdkappid, NEW.owner, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER friends_uncounted AFTER DELETE ON friends BEGIN
  UPDATE friend_counts SET n = n - 1 WHERE sdkappid = OLD.sdkappid AND owner = OLD.owner;
END;

-- Pending friend requests, to the target's verification.
CREATE TABLE friend_requests (
  sdkappid    INTEGER NOT NULL,
  target      TEXT NOT NULL,
  requester   TEXT NOT NULL,
  add_type    TEXT NOT NULL,
  add_source  TEXT NOT NULL DEFAULT '',
  add_wording TEXT NOT NULL DEFAULT '',
  remark      TEXT NOT NULL DEFAULT '',
  list_name   TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (sdkappid, target, requester)
) WITHOUT ROWID;
CREATE INDEX friend_requests_by_requester ON friend_requests (sdkappid, requester);

-- Friend lists (Tencent's friend "groups"), at most 32 per user.
CREATE TABLE friend_lists (
  sdkappid   INTEGER NOT NULL,
  owner      TEXT NOT NULL,
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (sdkappid, owner, name)
) WITHOUT ROWID;

-- Blocklists: owner blocked `blocked`.
CREATE TABLE blocklist (
  sdkappid   INTEGER NOT NULL,
  owner      TEXT NOT NULL,
  blocked    TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (sdkappid, owner, blocked)
) WITHOUT ROWID;
CREATE INDEX blocklist_by_blocked ON blocklist (sdkappid, blocked);
