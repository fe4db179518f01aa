// Package dynamodb is the state store on Amazon DynamoDB, for controllers that run as several
// replicas or in AWS Lambda, where no local disk outlives the process.
//
// # One table
//
// Every record lives in one table with a string partition key pk and a string sort key sk, and
// one local secondary index, "by-group", whose sort key lsk groups a kind's records the way they
// are listed. The key design, by kind:
//
//	kind        pk                   sk                       lsk (by-group)
//	agent       "agent"              name                     group(pool) + name
//	decision    "decision"           time(Time) + "#" + seq   group(pool) + sk
//	vm          "vm"                 instance id              group(project) + group(env) + id
//	outbox      "outbox"             message id               "due:" + time(NextAttempt) + "#" + id, pending only
//	check       "check"              hash(callback key)       "pending:" + group(pool) + time(ReceivedAt) + "#" + sk,
//	                                                          or "done:" + group(pool) + time(Outcome.At) + "#" + sk
//	callback    "callback#" + key    "-"                      -
//	dedup       "dedup#" + key       "-"                      -
//	lease       "lease#" + name      "-"                      -
//
// group(s) is len(s) + ":" + s + "|", a prefix no other group's key starts with, so
// begins_with(lsk, group(pool)) selects exactly one pool even when one pool's name extends
// another's. time(t) is 16 hex digits of the instant in microseconds with the sign bit flipped,
// so byte order is time order, before the epoch included. seq breaks ties between decisions of
// the same instant, newest appended last.
//
// Every read is a GetItem or a Query with ConsistentRead (a local index allows it, a global one
// would not); nothing Scans: the client interface, API, has no Scan. Listing a pool's agents, an
// Environment's VM records, a pool's newest decisions and the due outbox messages reads only the
// matching items; so does listing a pool's pending (or finished) check requests, and all pools'
// pending requests read the pending range alone (sorted by time in memory). Kinds listed together
// share a partition: a controller's few hundred agents and its notifications are far below one
// partition's throughput, and decisions and finished records expire (below), which keeps each
// kind under the 10 GB a partition key may hold in a table with a local index. Callbacks and dedup markers are only ever read by key, so each has its own
// partition, and callbacks, which never expire, do not grow any partition.
//
// # Writes
//
// Every state change is a conditional PutItem: creates on attribute_not_exists(pk), updates on
// the stored version (the item is replaced with version+1), so a lost race is ErrConflict; a
// failed update is told from an absent record by reading it again. A check callback is claimed by
// a conditional put of its marker: exactly one caller wins, across replicas and restarts.
//
// The outbox deduplicates with a marker per (route, dedup key) holding when the last message was
// enqueued (its CreatedAt). Emulators such as dynalite have no TransactWriteItems, so
// EnqueueMessage writes the marker first, on the condition that it is absent or older than
// dedupSince (one conditional write: two enqueues of the same alert cannot both pass), then the
// message. If the message cannot be written the marker is put back as it was. A crash between the
// two writes suppresses that alert until dedupSince moves past the marker, which is the dedup
// window. The marker holds the last enqueue, so callers give messages their enqueue time as
// CreatedAt (an older CreatedAt would move the window back).
//
// # Leases and fencing
//
// A leader lease is one item, taken or renewed by a consistent read and a PutItem conditioned on
// the exact state read (holder, token, expiry); it never expires, so its token never goes back.
// A write made under a fence (store.WithFence) first reads the lease and is refused with
// store.ErrFenced if the token moved on, and stamps the item with the token (attributes fence and
// fenceLease) on the condition that the stored item has no newer one. This is not a transaction:
// see fence.go and docs/ha.md for the window that remains and how the elector closes it.
//
// # Expiry
//
// Finished records carry ttl, a Number of epoch seconds, the table's TTL attribute: gone agents
// (AgentRetention after they went, default 7 days), VM records whose ExpiresAt is set (at
// ExpiresAt), delivered and dead outbox messages whose ExpiresAt is set (at ExpiresAt), decisions
// (DecisionRetention after they were appended, default 30 days: the dashboard's history) and
// dedup markers (DedupRetention after their message, default 7 days: keep it above the longest
// dedup window) and finished check requests (CheckRetention after they were done, default 7 days;
// a pending request, which holds the job token a callback needs, never expires). Check callback marks never expire: they are what makes a callback go out once.
// DynamoDB deletes expired items lazily (typically within days), so reads may still see them.
//
// Production tables come from Terraform (deploy/terraform/aws/dynamodb.tf); EnsureTable creates
// one for development and tests. Each call runs under Options.CallTimeout; the SDK's retryer
// handles throttling (see NewClient).
package dynamodb
