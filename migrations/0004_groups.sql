-- The directory of groups, read across groups: the app's group list, a user's joined groups and
-- what a user's conversation list needs of each (last sequence and time). Each group's actor is
-- the authority; it keeps these rows up to date through its own outbox (src/actors/group/directory.ts).
CREATE TABLE groups (
  sdkappid      INTEGER NOT NULL,
  group_id      TEXT NOT NULL,
  type          TEXT NOT NULL,
  name          TEXT NOT NULL,
  owner         TEXT,                       -- absent for a group without an owner
  member_count  INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,           -- unix seconds
  last_seq      INTEGER NOT NULL DEFAULT 0, -- the group's newest MsgSeq, as of the last directory update
  last_msg_time INTEGER NOT NULL DEFAULT 0, -- unix seconds
  last_msg      TEXT,                       -- JSON: the newest message everyone may see, for conversation lists
  version       INTEGER NOT NULL DEFAULT 0, -- the actor's change counter: an older update never overwrites a newer one
  PRIMARY KEY (sdkappid, group_id)
);
CREATE INDEX groups_by_type ON groups (sdkappid, type, group_id);

CREATE TABLE group_members (
  sdkappid  INTEGER NOT NULL,
  user_id   TEXT NOT NULL,
  group_id  TEXT NOT NULL,
  joined_at INTEGER NOT NULL,               -- unix seconds
  join_seq  INTEGER NOT NULL DEFAULT 0,     -- the group's MsgSeq when the user joined: earlier ones are not unread
  msg_flag  TEXT NOT NULL DEFAULT 'AcceptAndNotify', -- AcceptNotNotify: no unread badge; Discard: nothing delivered
  PRIMARY KEY (sdkappid, user_id, group_id)
);
CREATE INDEX group_members_by_group ON group_members (sdkappid, group_id);
