// Package sqlite is the default state store: one file on local disk, no server to run, backed
// up by copying it (after a checkpoint) and inspected with the sqlite3 shell. It suits a
// controller that runs as one process (serve, demo); deployments that run several replicas or
// run in Lambda use the dynamodb or postgres store instead.
//
// The driver is modernc.org/sqlite (pure Go, no cgo). The database runs in WAL mode so readers
// never wait for the writer. All writes go through one connection, in order, and each
// read-modify-write runs in a BEGIN IMMEDIATE transaction; together with busy_timeout this
// means concurrent writers in this process queue instead of failing with SQLITE_BUSY, and a
// second process (adofleet status, gc) waits for the lock rather than erroring.
//
// Durability is set by Options.Synchronous. The default, NORMAL, does not sync on every commit
// in WAL mode: a committed write survives the process crashing, but the last few commits may be
// lost if the machine loses power or the kernel crashes (the file is never corrupted). FULL syncs
// every commit, at a cost in write latency; choose it when a check callback must never be sent
// twice even across a power loss.
//
// Leader leases (store.Leases) are rows of the leases table, taken by one upsert. A write made
// under a fence (store.WithFence) reads the lease's token inside its own BEGIN IMMEDIATE
// transaction, so no takeover can land between the check and the write (see fence.go).
//
// The schema is kept by numbered migrations (migrations/NNNN_name.sql), each applied in its own
// transaction and recorded in the schema_migrations table. Open refuses a database whose
// schema is newer than this binary knows, and a file that is not an SQLite database.
package sqlite
