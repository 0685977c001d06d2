-- Effects of a change that happen after it commits (telling users' devices; later, callbacks),
-- written in the same batch as the change and delivered after the answer (src/mechanisms/outbox.ts).
CREATE TABLE outbox (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,  -- the order rows were written in; never reused
  sdkappid   INTEGER NOT NULL,
  target     TEXT NOT NULL,              -- a target's rows are delivered in id order ("user:<UserID>")
  kind       TEXT NOT NULL,              -- what delivering the row means ("relationsChanged")
  payload    TEXT NOT NULL,              -- JSON
  attempts   INTEGER NOT NULL DEFAULT 0, -- failed deliveries so far
  due_at     INTEGER NOT NULL,           -- ms: when it is next tried, or when a drain's hold on it ends
  parked_at  INTEGER,                    -- ms: given up on after too many attempts; kept to be looked at
  last_error TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (sdkappid, due_at) WHERE parked_at IS NULL;
CREATE INDEX outbox_lines ON outbox (sdkappid, target, id) WHERE parked_at IS NULL;
