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
// # What is measured
//
// Every run of a policy is paired with a run of the ideal launcher (IdealPolicy) on the same
// trace with the same draws: one agent launched the instant each job is queued, no controller,
// no standby. Boot times are drawn per job in queue order, and a launch gets the boot of the
// oldest queued job no launch has covered yet (see boots.go), so a job's agent boots in the same
// time in both runs. A job's wait beyond ideal is its wait less its wait under the ideal launcher
// (never below 0): it charges the policy for its reaction (event delivery, polls, coalescing,
// the cycle's own calls, Config.CycleTime) and for launching too few agents, and not for what no
// launcher without standby avoids: the boot, and ADO handing the oldest queued job to whichever
// agent comes online first. The older wait less the boot of the agent that ran the job is kept
// beside it (Result.WaitBeyondBoot); it counts that reshuffle too.
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
