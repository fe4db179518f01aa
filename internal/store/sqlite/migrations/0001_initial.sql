-- Agents the controller owns, keyed by ADO agent name; version is the optimistic-lock counter.
-- Times are microseconds since the Unix epoch, UTC; NULL is the zero time.
CREATE TABLE agents (
	name           TEXT    NOT NULL PRIMARY KEY,
	pool           TEXT    NOT NULL,
	launch_token   TEXT    NOT NULL DEFAULT '',
	template       TEXT    NOT NULL DEFAULT '',
	instance_id    TEXT    NOT NULL DEFAULT '',
	agent_id       INTEGER NOT NULL DEFAULT 0,
	state          TEXT    NOT NULL,
	reason         TEXT    NOT NULL DEFAULT '',
	created_at     INTEGER,
	updated_at     INTEGER,
	registered_at  INTEGER,
	job_request_id INTEGER NOT NULL DEFAULT 0,
	version        INTEGER NOT NULL
) STRICT;

-- Decision history; id breaks ties between decisions made at the same instant.
CREATE TABLE decisions (
	id     INTEGER PRIMARY KEY AUTOINCREMENT,
	time   INTEGER,
	pool   TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT ''
) STRICT;

-- Exactly-once marks for check callbacks: the primary key is the claim.
CREATE TABLE callbacks (
	plan_id          TEXT NOT NULL,
	job_id           TEXT NOT NULL,
	task_instance_id TEXT NOT NULL,
	result           TEXT NOT NULL,
	claimed_at       INTEGER,
	PRIMARY KEY (plan_id, job_id, task_instance_id)
) STRICT, WITHOUT ROWID;
