-- The notification outbox: one row per message to one route, written before delivery is tried.
-- payload is opaque bytes; times as in agents (NULL next_attempt is due at once).
CREATE TABLE outbox (
	id           TEXT    NOT NULL PRIMARY KEY,
	route        TEXT    NOT NULL,
	dedup_key    TEXT    NOT NULL DEFAULT '',
	payload      BLOB    NOT NULL,
	state        TEXT    NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt INTEGER,
	last_error   TEXT    NOT NULL DEFAULT '',
	created_at   INTEGER,
	updated_at   INTEGER,
	delivered_at INTEGER,
	expires_at   INTEGER,
	version      INTEGER NOT NULL
) STRICT;

-- Delivery workers poll the due pending messages; enqueue looks for a recent duplicate alert;
-- pruning finds finished messages past expiry.
CREATE INDEX outbox_due ON outbox (next_attempt) WHERE state = 'pending';
CREATE INDEX outbox_dedup ON outbox (route, dedup_key, created_at) WHERE dedup_key <> '';
CREATE INDEX outbox_finished_expires ON outbox (expires_at) WHERE state IN ('delivered', 'dead');
