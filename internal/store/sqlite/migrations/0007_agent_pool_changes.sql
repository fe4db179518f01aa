-- A change counter per pool of the agents table, kept by triggers, so the list cache
-- (listcache.go) can tell which pools' records changed since it read them: a write to one pool,
-- or to another table (a lease renewal, a decision), no longer makes every pool read its records
-- again. Rows are never deleted, so a pool's counter never goes back. The triggers fire for every
-- writer of the file, whatever process it is.
CREATE TABLE agent_pool_changes (
	pool TEXT    NOT NULL PRIMARY KEY,
	n    INTEGER NOT NULL
) STRICT;

INSERT INTO agent_pool_changes (pool, n) SELECT DISTINCT pool, 1 FROM agents WHERE true;

CREATE TRIGGER agents_changes_insert AFTER INSERT ON agents BEGIN
	INSERT INTO agent_pool_changes (pool, n) VALUES (NEW.pool, 1)
		ON CONFLICT (pool) DO UPDATE SET n = n + 1;
END;

-- An update that moves a record to another pool changes both.
CREATE TRIGGER agents_changes_update AFTER UPDATE ON agents BEGIN
	INSERT INTO agent_pool_changes (pool, n) VALUES (NEW.pool, 1)
		ON CONFLICT (pool) DO UPDATE SET n = n + 1;
	INSERT INTO agent_pool_changes (pool, n) SELECT OLD.pool, 1 WHERE OLD.pool <> NEW.pool
		ON CONFLICT (pool) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER agents_changes_delete AFTER DELETE ON agents BEGIN
	INSERT INTO agent_pool_changes (pool, n) VALUES (OLD.pool, 1)
		ON CONFLICT (pool) DO UPDATE SET n = n + 1;
END;
