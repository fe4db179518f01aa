-- Indexes for the per-cycle queries: a pool's agents by state, the newest decisions (of a pool),
-- and pruning of gone agents.
CREATE INDEX agents_pool_state ON agents (pool, state);
CREATE INDEX agents_gone_updated ON agents (updated_at) WHERE state = 'gone';
CREATE INDEX decisions_time ON decisions (time DESC, id DESC);
CREATE INDEX decisions_pool_time ON decisions (pool, time DESC, id DESC);
