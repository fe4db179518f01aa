// Package sim replays a job trace through adofleet's real decision code under virtual time and
// measures wait and cost.
//
// A run builds the real stack for one policy: the in-memory ADO organization (adosim.Org) served
// by adosim.Server, reached through the real ado.Client over an in-process transport (no
// sockets), the real controller.Controller and scaler, a real SQLite store in a temporary
// directory, and a simulated provider whose instances boot after a delay drawn from a
// configurable distribution and may be interrupted (spot) at a rate. Time is virtual: an event
// heap orders job arrivals, boots, job ends, interruptions and reconcile cycles, and every clock
// (the Org's, the controller's Options.Now) reads the simulation's time; nothing sleeps. Equal
// inputs and seed give equal results.
//
// A simulated agent registers when its instance has booted, opens a session (online), takes the
// job the Org assigns it (ADO's rule: oldest job to the agent idle longest), runs it for the
// trace's duration and, as a one-job (--once) agent, closes its session, finishes the job and
// exits with its instance. Agents of policies that reuse agents stay online for the next job.
// Lock renewals are not simulated: the Org runs with session and lock timeouts longer than any
// trace, since renewals make no decision.
//
// # Trace format
//
// A trace is CSV with a header line naming the columns, in any order:
//
//		queue_time,duration,demands,pool
//		2025-03-03T08:00:05Z,7m30s,docker;Agent.OS -equals Linux,linux
//
//	  - queue_time: RFC 3339 time the job was queued. Rows need not be sorted.
//	  - duration: how long the job runs once an agent has it: a Go duration ("7m30s") or seconds
//	    ("450").
//	  - demands: ADO demand strings separated by ";" (may be empty): "name" (the capability exists)
//	    or "name -equals value".
//	  - pool: the agent pool's name.
//
// Blank lines and lines starting with "#" are ignored. Parse errors name the line and column.
package sim
