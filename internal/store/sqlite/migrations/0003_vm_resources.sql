-- EC2 instances registered as Environment VM resources, keyed by instance id; written at launch
-- because the instance's tags may be gone when its termination arrives. tags is a JSON array of
-- strings (NULL when there are none); times as in agents; version is the optimistic-lock counter.
CREATE TABLE vm_resources (
	instance_id        TEXT    NOT NULL PRIMARY KEY,
	auto_scaling_group TEXT    NOT NULL DEFAULT '',
	project            TEXT    NOT NULL DEFAULT '',
	environment        TEXT    NOT NULL DEFAULT '',
	environment_id     INTEGER NOT NULL DEFAULT 0,
	resource_name      TEXT    NOT NULL DEFAULT '',
	resource_id        INTEGER NOT NULL DEFAULT 0,
	pool_id            INTEGER NOT NULL DEFAULT 0,
	agent_id           INTEGER NOT NULL DEFAULT 0,
	tags               TEXT,
	state              TEXT    NOT NULL,
	reason             TEXT    NOT NULL DEFAULT '',
	lifecycle_hook     TEXT    NOT NULL DEFAULT '',
	lifecycle_token    TEXT    NOT NULL DEFAULT '',
	created_at         INTEGER,
	updated_at         INTEGER,
	expires_at         INTEGER,
	version            INTEGER NOT NULL
) STRICT;

-- Reconciliation lists an Environment's records; pruning finds finished ones past expiry.
CREATE INDEX vm_resources_env_state ON vm_resources (project, environment, state);
CREATE INDEX vm_resources_gone_expires ON vm_resources (expires_at) WHERE state = 'gone';
