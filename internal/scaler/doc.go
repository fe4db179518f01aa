// Package scaler is the decision: a pure function from a pool snapshot, a policy and a time to a
// plan (launch N, drain these idle agents, delete these stale agents, terminate these orphan
// instances). No I/O, no goroutines, no clock reads: the same code runs in serve, lambda, demo and
// the simulator, and every rule is a table test. Every step carries the reason a human reads.
//
// Terms. A queued job (AgentID 0) is ours when Policy.Capabilities satisfy its demands (see
// Satisfies); others are never launched for. Capacity is live instances + Snapshot.Launching and
// counts against Max, the licence cap. Supply is what can take a queued job soon: ready agents
// (online, enabled, not busy, not draining, not a finished one-job agent, not a placeholder; ours
// or not), starting instances (alive, agent not online yet, within the registration timeout) and
// launches in flight (Snapshot.Launching). An agent is busy if it says so or a job names it.
//
// Rules, one function each:
//
//   - launches: matching queued jobs + Snapshot.Demands (checks waiting for an agent) + Standby,
//     less supply, and at least Min - live; capped so that capacity never exceeds Max, and by
//     MaxLaunchPerCycle.
//   - idleAgents (drain): ours, ready, idle longer than IdleTimeout, oldest first, only as many as
//     the ready agents exceed queued jobs + Demands + Standby and live instances exceed Min; never an
//     agent in Snapshot.Reserved (it released a check and waits for that job). A finished
//     one-job agent still online after IdleTimeout is drained regardless.
//   - staleAgents (delete from ADO): ours, offline, not busy, and finished (one-job) or with no
//     live instance (matched by Instance.AgentName); not within NewAgentGrace of its creation.
//   - orphanInstances (terminate): no agent of that name after RegistrationTimeout; agent
//     registered but offline after RegistrationTimeout; finished one-job agent offline with its
//     instance alive for longer than FinishedGrace.
//
// Never touched by any rule: busy agents and their instances, placeholder agents (kept so that ADO
// does not fail jobs at scale to zero), agents not ours (drain, delete), agents in
// Snapshot.Draining (the controller's drain protocol owns them), and names held by more than one
// agent. Output lists are sorted by agent name or instance id, so equal inputs give equal plans.
package scaler
