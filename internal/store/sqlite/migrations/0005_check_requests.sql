-- Check requests waiting for an agent (and, once done, their outcome), keyed like callbacks.
-- IF NOT EXISTS: adofleet before this migration kept the same table, with this very shape, in the
-- same file (internal/checks' own connection); an upgrade adopts it with its pending requests.
-- received_at is microseconds since the epoch (never NULL); done_at as in agents (NULL is zero).
-- auth_token is the job token, kept while pending and blanked when done.
CREATE TABLE IF NOT EXISTS check_requests (
	plan_id          TEXT    NOT NULL,
	job_id           TEXT    NOT NULL,
	task_instance_id TEXT    NOT NULL,
	pool             TEXT    NOT NULL,
	plan_url         TEXT    NOT NULL,
	project_id       TEXT    NOT NULL,
	hub_name         TEXT    NOT NULL,
	timeline_id      TEXT    NOT NULL,
	auth_token       TEXT    NOT NULL,
	received_at      INTEGER NOT NULL,
	state            TEXT    NOT NULL, -- pending, done
	result           TEXT    NOT NULL DEFAULT '',
	reason           TEXT    NOT NULL DEFAULT '',
	agent            TEXT    NOT NULL DEFAULT '',
	sent             INTEGER NOT NULL DEFAULT 0,
	done_at          INTEGER,
	PRIMARY KEY (plan_id, job_id, task_instance_id)
) STRICT;

-- The controller and the callbacker read the pending requests every cycle.
CREATE INDEX IF NOT EXISTS check_requests_pending ON check_requests (state, pool, received_at);
