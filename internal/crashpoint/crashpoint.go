// Package crashpoint marks the places in the controller where a crash is most likely to leave
// state half-written, so the crash tests (cmd/adofleet/crash_test.go) can kill the process at
// exactly those places and check that a restart on the same store converges.
//
// Hit(name) does nothing in a normal build: the function is empty and inlined away, so the
// production binary carries neither the names nor the check. Built with -tags crashpoints, Hit
// kills its own process with SIGKILL (no deferred calls, no flushing, exactly like the OOM killer
// or a lost machine) when the environment variable ADOFLEET_CRASHPOINT names the point:
//
//	ADOFLEET_CRASHPOINT=drain.after-disable     the first hit
//	ADOFLEET_CRASHPOINT=launch.after-record:3   the third hit
//
// Just before killing, it writes "adofleet crashpoint: NAME hit N: SIGKILL" to stderr, so a test
// can tell that the point was reached rather than the process dying of something else.
//
// The points, in the order a pool's agent lives through them:
//
//	launch.after-intent     launch intents (StateLaunching) written, provider not yet called
//	launch.after-provider   provider returned instances, none recorded yet
//	launch.after-record     one agent's StateLaunched record written (the rest of the batch not)
//	drain.after-disable     agent disabled in ADO, StateDraining not yet recorded
//	drain.after-record      StateDraining recorded, agent not yet re-checked
//	drain.after-terminate   drained agent's instance terminated, agent not yet deleted from ADO
//	drain.after-delete      drained agent deleted from ADO, record not yet closed
//	stale.after-terminate   finished agent's instance terminated, agent not yet deleted from ADO
//	stale.after-delete      finished agent deleted from ADO, record not yet closed
//	orphan.after-terminate  orphan instances terminated, their records not yet closed
//
// A test keeps this list and the Hit calls in internal/controller in step.
package crashpoint

// EnvVar names the point (and optionally the hit, NAME:N) to crash at.
const EnvVar = "ADOFLEET_CRASHPOINT"
