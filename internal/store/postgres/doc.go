// Package postgres is the state store on a PostgreSQL server (pgx, pgxpool), for deployments that
// run several controller replicas or already run a database. Replicas may share one schema:
// every rule the store enforces holds across processes, not just goroutines.
//
//   - Every state change is a conditional UPDATE ... WHERE version = $n; no row updated means
//     ErrConflict if the key exists and ErrNotFound if it does not.
//   - ClaimCallback is INSERT ... ON CONFLICT DO NOTHING: the primary key is the claim.
//   - EnqueueMessage takes a transaction-scoped advisory lock on the alert's (route, dedup key),
//     then checks for a recent duplicate and inserts in the same transaction, so two replicas
//     enqueueing one alert store it once.
//   - Leader leases (store.Leases) are rows of the leases table, taken by one upsert. A write made
//     under a fence (store.WithFence) runs in a transaction that first reads the lease row FOR
//     SHARE: a takeover waits for the write to finish, and a write after a takeover is refused
//     with store.ErrFenced (see fence.go).
//   - Every statement runs under the server-side statement_timeout (Options.Timeout), and every
//     call under the caller's context and a client-side limit just past it; see Store.bound.
//
// Tables live in one schema (Options.Schema, default "adofleet"), kept by numbered migrations
// (migrations/NNNN_name.sql) applied in one transaction under an advisory lock: controllers that
// start together serialize there, and a failed migration leaves the schema as it was. Open
// refuses a schema newer than this binary knows.
//
// Times are timestamptz (microseconds; the zero time is NULL) and come back in UTC.
//
// The connection URL carries the password; no error Open returns and no log line contains it.
// See docs/postgres.md for the setup and the permissions the database role needs.
package postgres
