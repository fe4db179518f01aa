-- Applied with search_path set to the store's schema, so the names below land there.
-- Times are timestamptz (microsecond precision); NULL is the zero time.

-- Agents the controller owns, keyed by ADO agent name; version is the optimistic-lock counter.
CREATE TABLE agents (
	name           text   NOT NULL PRIMARY KEY,
	pool           text   NOT NULL,
	launch_token   text   NOT NULL DEFAULT '',
	template       text   NOT NULL DEFAULT '',
	instance_id    text   NOT NULL DEFAULT '',
	agent_id       bigint NOT NULL DEFAULT 0,
	state          text   NOT NULL,
	reason         text   NOT NULL DEFAULT '',
	created_at     timestamptz,
	updated_at     timestamptz,
	registered_at  timestamptz,
	job_request_id bigint NOT NULL DEFAULT 0,
	version        bigint NOT NULL
);
CREATE INDEX agents_pool_state ON agents (pool, state);
CREATE INDEX agents_gone_updated ON agents (updated_at) WHERE state = 'gone';

-- Decision history; id breaks ties between decisions made at the same instant.
CREATE TABLE decisions (
	id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	time   timestamptz,
	pool   text NOT NULL,
	action text NOT NULL,
	target text NOT NULL DEFAULT '',
	reason text NOT NULL DEFAULT ''
);
CREATE INDEX decisions_time ON decisions (time DESC NULLS LAST, id DESC);
CREATE INDEX decisions_pool_time ON decisions (pool, time DESC NULLS LAST, id DESC);

-- Exactly-once marks for check callbacks: the primary key is the claim.
CREATE TABLE callbacks (
	plan_id          text NOT NULL,
	job_id           text NOT NULL,
	task_instance_id text NOT NULL,
	result           text NOT NULL,
	claimed_at       timestamptz,
	PRIMARY KEY (plan_id, job_id, task_instance_id)
);

-- EC2 instances registered as Environment VM resources, keyed by instance id.
CREATE TABLE vm_records (
	instance_id        text   NOT NULL PRIMARY KEY,
	auto_scaling_group text   NOT NULL DEFAULT '',
	project            text   NOT NULL DEFAULT '',
	environment        text   NOT NULL DEFAULT '',
	environment_id     bigint NOT NULL DEFAULT 0,
	resource_name      text   NOT NULL DEFAULT '',
	resource_id        bigint NOT NULL DEFAULT 0,
	pool_id            bigint NOT NULL DEFAULT 0,
	agent_id           bigint NOT NULL DEFAULT 0,
	tags               text[],
	state              text   NOT NULL,
	reason             text   NOT NULL DEFAULT '',
	lifecycle_hook     text   NOT NULL DEFAULT '',
	lifecycle_token    text   NOT NULL DEFAULT '',
	created_at         timestamptz,
	updated_at         timestamptz,
	expires_at         timestamptz,
	version            bigint NOT NULL
);
CREATE INDEX vm_records_env_state ON vm_records (project, environment, state);
CREATE INDEX vm_records_expires ON vm_records (expires_at) WHERE expires_at IS NOT NULL;

-- The notification outbox, keyed by the caller's message id.
CREATE TABLE outbox (
	id           text    NOT NULL PRIMARY KEY,
	route        text    NOT NULL,
	dedup_key    text    NOT NULL DEFAULT '',
	payload      bytea,
	state        text    NOT NULL,
	attempts     integer NOT NULL DEFAULT 0,
	next_attempt timestamptz,
	last_error   text    NOT NULL DEFAULT '',
	created_at   timestamptz,
	updated_at   timestamptz,
	delivered_at timestamptz,
	expires_at   timestamptz,
	version      bigint  NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt NULLS FIRST, id) WHERE state = 'pending';
CREATE INDEX outbox_expires ON outbox (expires_at) WHERE expires_at IS NOT NULL;
-- EnqueueMessage's duplicate check.
CREATE INDEX outbox_dedup ON outbox (route, dedup_key, created_at) WHERE dedup_key <> '';
