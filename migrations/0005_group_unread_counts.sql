-- Unread as a difference of two counts: each group's running count of messages that count as
-- unread (targeted messages and NoUnread ones do not), and where each member joined in it.
ALTER TABLE groups ADD COLUMN unread_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE group_members ADD COLUMN join_count INTEGER NOT NULL DEFAULT 0;
