// Package adosim is an Azure DevOps simulator: an in-memory organization (pools, agents, job
// requests, environments with virtual-machine resources, plans) behind an HTTP server that speaks
// the same wire contract as ADO (api-version 7.1) for the calls adofleet and an agent make, a
// simulated agent (RunAgent) that walks the real states registered -> online -> assigned ->
// finished -> offline, and a job generator.
//
// The package deliberately does not import internal/ado: it has its own wire structs, so the
// client's tests against this server catch any drift between the client and ADO's contract.
//
// Deliberate choices where ADO leaves room (each is a documented behaviour, not an accident):
//   - A bad or missing credential answers 401 with ADO's JSON error (TF400813), never the 203
//     HTML sign-in page ADO sometimes serves to browsers.
//   - Org calls authenticate with the configured PAT (Basic, any user; or Bearer). Plan events and
//     logs authenticate only with that plan's job token, so a client that sends its PAT there fails.
//   - The simulated agent authenticates every call with the PAT; the real agent swaps to an OAuth
//     token after configuration, which is irrelevant to the states it walks.
//   - A job assigned to an agent whose session expires, whose lock lapses or which is deleted goes
//     back to the queue; a job already delivered is then started a second time, which read-back
//     reports (JobInfo.Starts) so the demo can catch a busy agent being killed.
//   - An agent that deletes its session while running a delivered job keeps the job and may still
//     finish it with its lock token (a --once agent goes offline before finishing, so it is never
//     handed a second job).
//   - Assignment: each queued job, oldest first, goes to the idle, enabled, online agent of its pool
//     that satisfies its demands and has been idle longest. A job fails at once when no agent of
//     the pool satisfies its demands whatever its status, disabled and offline agents included.
//   - The job-requests list returns rows newest first; the 200-row cap therefore hides the oldest.
//   - Times (queue, assign, receive, finish) are the Org's clock; a finishTime in a PATCH body is
//     ignored, so waits computed from read-back never mix clocks.
//
// Typical use in a test:
//
//	org := adosim.NewOrg(adosim.OrgOptions{})
//	org.AddPool("linux")
//	org.AddAgent("linux", adosim.AgentSpec{Name: "placeholder"}) // offline: keeps jobs queued, not failed
//	run, _ := adosim.NewServer(org, adosim.ServerOptions{PAT: "pat"}).Start("")
//	defer run.Close()
//	go adosim.RunAgent(ctx, adosim.AgentOptions{URL: run.URL, Token: "pat", Pool: "linux", Name: "a1", Once: true})
//	org.QueueJob("linux", adosim.JobSpec{Duration: time.Second})
package adosim
