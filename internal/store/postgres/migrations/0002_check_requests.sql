-- Check requests waiting for an agent (and, once done, their outcome), keyed like callbacks.
-- auth_token is the job token, kept while pending and blanked when done.
CREATE TABLE check_requests (
	plan_id          text    NOT NULL,
	job_id           text    NOT NULL,
	task_instance_id text    NOT NULL,
	pool             text    NOT NULL,
	plan_url         text    NOT NULL DEFAULT '',
	project_id       text    NOT NULL DEFAULT '',
	hub_name         text    NOT NULL DEFAULT '',
	timeline_id      text    NOT NULL DEFAULT '',
	auth_token       text    NOT NULL DEFAULT '',
	received_at      timestamptz,
	state            text    NOT NULL, -- pending, done
	result           text    NOT NULL DEFAULT '',
	reason           text    NOT NULL DEFAULT '',
	agent            text    NOT NULL DEFAULT '',
	sent             boolean NOT NULL DEFAULT false,
	done_at          timestamptz,
	PRIMARY KEY (plan_id, job_id, task_instance_id)
);
-- The controller and the callbacker read the pending requests every cycle.
CREATE INDEX check_requests_pending ON check_requests (pool, received_at NULLS FIRST) WHERE state = 'pending';
