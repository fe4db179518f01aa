-- Leader leases (high availability): one row per lease name. token is the fencing token; it
-- grows by one on every change of holder. A released lease has holder '' and expires at the
-- epoch. Rows are never deleted, so a token never goes back.
CREATE TABLE leases (
	name    text        NOT NULL PRIMARY KEY,
	holder  text        NOT NULL,
	token   bigint      NOT NULL,
	expires timestamptz NOT NULL
);
