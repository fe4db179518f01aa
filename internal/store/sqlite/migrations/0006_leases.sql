-- Leader leases (high availability): one row per lease name. token is the fencing token; it
-- grows by one on every change of holder. expires is microseconds since the epoch; a released
-- lease has holder '' and expires 0. Rows are never deleted, so a token never goes back.
CREATE TABLE leases (
	name    TEXT    NOT NULL PRIMARY KEY,
	holder  TEXT    NOT NULL,
	token   INTEGER NOT NULL,
	expires INTEGER NOT NULL
) STRICT;
