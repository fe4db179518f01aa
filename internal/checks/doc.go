// Package checks implements the Approvals-and-Checks "Invoke REST API" check of an agent pool in
// callback (completion event) mode: ADO calls POST /v1/checks/{pool} when a job targets the pool,
// adofleet records the request durably and wakes the pool's controller, and the Callbacker posts
// TaskCompleted back to the plan once an agent of the pool is online and idle (succeeded), or
// when the wait times out or provisioning fails (failed). A check on an Environment sends the same
// values; its URL names the pool the deployment job runs on, so the same endpoint serves it.
//
// Exactly once: a callback is claimed in the state store (store.ClaimCallback, keyed by plan, job
// and task instance) before it is posted. A claim that was made but whose post did not happen
// (a crash between the two) is never re-sent after a restart: the check then times out in ADO and
// the job fails, rather than being released twice. See docs/checks.md.
package checks
