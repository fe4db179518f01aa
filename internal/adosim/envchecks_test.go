package adosim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/adosim"
)

// envPool starts a simulator with pool "linux" (one offline placeholder, no pool check) and an
// environment "prod" in the default project, checked by ce; it returns the env, pool and env ids.
func envPool(t *testing.T, clock *manualClock, spec adosim.CheckSpec) (*env, int, int) {
	t.Helper()
	e := start(t, adosim.OrgOptions{Clock: clock}, adosim.ServerOptions{})
	poolID := e.addPool(t, "linux")
	if _, err := e.org.AddAgent("linux", adosim.AgentSpec{Name: "placeholder"}); err != nil {
		t.Fatal(err)
	}
	envID, err := e.org.AddEnvironment(e.org.DefaultProject(), "prod")
	if err != nil {
		t.Fatal(err)
	}
	spec.RetryDelay = time.Millisecond
	if err := e.org.SetEnvironmentCheck(e.org.DefaultProject(), envID, spec); err != nil {
		t.Fatalf("SetEnvironmentCheck: %v", err)
	}
	return e, poolID, envID
}

func TestEnvironmentCheckHoldsThenReleases(t *testing.T) {
	t.Parallel()
	ce := newCheckEndpoint(t)
	clock := newManualClock()
	e, poolID, envID := envPool(t, clock, adosim.CheckSpec{URL: ce.url, Username: "svc", Password: "pw", Timeout: time.Hour})

	// A job of the pool that targets no environment is not held.
	if j := e.job(t, e.queue(t, "linux", adosim.JobSpec{})); j.State != adosim.JobQueued || len(j.Checks) != 0 {
		t.Errorf("job without an environment: got %s with checks %+v, want queued, none", j.State, j.Checks)
	}

	id := e.queue(t, "linux", adosim.JobSpec{JobName: "Deploy", Environment: envID, Duration: time.Millisecond})
	c := ce.next(t)
	if c.user != "svc" || c.pass != "pw" {
		t.Errorf("check call credentials: got %q/%q, want svc/pw", c.user, c.pass)
	}
	eventually(t, "the check call to be counted", func() bool { return e.job(t, id).CheckCalls == 1 })
	j := e.job(t, id)
	if j.State != adosim.JobWaitingForChecks || j.Environment != envID {
		t.Errorf("before the callback: got %s env %d, want %s env %d", j.State, j.Environment, adosim.JobWaitingForChecks, envID)
	}
	want := map[string]string{"PlanUrl": e.url + "/", "HubName": "checks", "PlanId": j.CheckPlanID, "ProjectId": e.org.ProjectID(e.org.DefaultProject())}
	for k, v := range want {
		if got := c.header.Get(k); got != v {
			t.Errorf("header %s: got %q, want %q", k, got, v)
		}
	}
	if diff := cmp.Diff([]adosim.CheckInfo{{Resource: adosim.CheckOnEnvironment, PlanID: j.CheckPlanID, Calls: 1, Waiting: true}}, j.Checks); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
	if got := e.listedRequests(t, poolID); len(got) != 1 {
		t.Errorf("job requests while the check waits: got %v, want only the unheld job", got)
	}

	e.completeCheck(t, e.url+"/", c.header, "succeeded")
	if j := e.job(t, id); j.State != adosim.JobQueued {
		t.Fatalf("after the callback: got %s, want queued", j.State)
	}
	a := e.connect(t, poolID, "jit-1", nil)
	jm := a.poll()
	if jm == nil {
		t.Fatal("the agent got no job")
	}
	if r := a.finish(jm, "succeeded"); r.status != http.StatusOK {
		t.Fatalf("finish: got %d %s", r.status, r.body)
	}
}

func TestEnvironmentCheckFailedOrTimedOutFailsTheJob(t *testing.T) {
	t.Parallel()
	testCheckFailureFailsTheJob(t, 5*time.Minute, "launch failed",
		func(t *testing.T, clock *manualClock, spec adosim.CheckSpec) (*env, int, int64) {
			e, poolID, envID := envPool(t, clock, spec)
			return e, poolID, e.queue(t, "linux", adosim.JobSpec{Environment: envID})
		})
}

// A job whose pool and environment both have checks runs only when both passed, as in ADO.
func TestPoolAndEnvironmentChecksMustBothPass(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		second     string // result of the second callback
		wantState  adosim.JobState
		wantResult string
	}{
		{"both pass", "succeeded", adosim.JobQueued, ""},
		{"second fails", "failed", adosim.JobFinished, "failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			poolCE, envCE := newCheckEndpoint(t), newCheckEndpoint(t)
			clock := newManualClock()
			e, _, envID := envPool(t, clock, adosim.CheckSpec{URL: envCE.url, Timeout: time.Hour})
			if err := e.org.SetPoolCheck("linux", adosim.CheckSpec{URL: poolCE.url, Timeout: time.Hour}); err != nil {
				t.Fatal(err)
			}
			id := e.queue(t, "linux", adosim.JobSpec{Environment: envID})
			pc, ec := poolCE.next(t), envCE.next(t)
			if pc.header.Get("PlanId") == ec.header.Get("PlanId") {
				t.Errorf("both checks ran in plan %s, want one plan each", pc.header.Get("PlanId"))
			}
			j := e.job(t, id)
			var got []string
			for _, c := range j.Checks {
				got = append(got, c.Resource)
			}
			if diff := cmp.Diff([]string{adosim.CheckOnPool, adosim.CheckOnEnvironment}, got); diff != "" {
				t.Errorf("checks (-want +got):\n%s", diff)
			}

			e.completeCheck(t, e.url+"/", ec.header, "succeeded")
			e.completeCheck(t, e.url+"/", ec.header, "succeeded") // a double callback counts once
			if j := e.job(t, id); j.State != adosim.JobWaitingForChecks {
				t.Fatalf("after the environment's check only: got %s, want %s", j.State, adosim.JobWaitingForChecks)
			}
			e.completeCheck(t, e.url+"/", pc.header, tt.second)
			j = e.job(t, id)
			if j.State != tt.wantState || j.Result != tt.wantResult {
				t.Errorf("after both callbacks: got %s %q, want %s %q", j.State, j.Result, tt.wantState, tt.wantResult)
			}
		})
	}
}

func TestEnvironmentCheckValidates(t *testing.T) {
	t.Parallel()
	org := adosim.NewOrg(adosim.OrgOptions{Seed: 1})
	if _, err := org.AddPool("linux"); err != nil {
		t.Fatal(err)
	}
	if err := org.SetEnvironmentCheck(org.DefaultProject(), 42, adosim.CheckSpec{URL: "http://x"}); err == nil {
		t.Error("SetEnvironmentCheck on an unknown environment: got nil, want an error")
	}
	if err := org.SetEnvironmentCheck(org.DefaultProject(), 42, adosim.CheckSpec{}); err == nil {
		t.Error("SetEnvironmentCheck without a URL: got nil, want an error")
	}
	if _, err := org.QueueJob("linux", adosim.JobSpec{Environment: 42}); err == nil {
		t.Error("QueueJob targeting an unknown environment: got nil, want an error")
	}
	envID, err := org.AddEnvironment(org.DefaultProject(), "prod")
	if err != nil {
		t.Fatal(err)
	}
	if err := org.SetEnvironmentCheck(org.DefaultProject(), envID, adosim.CheckSpec{URL: "http://127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	org.ClearEnvironmentCheck(org.DefaultProject(), envID)
	if _, err := org.AddAgent("linux", adosim.AgentSpec{Name: "placeholder"}); err != nil {
		t.Fatal(err)
	}
	id, err := org.QueueJob("linux", adosim.JobSpec{Environment: envID})
	if err != nil {
		t.Fatal(err)
	}
	if j, _ := org.Job(id); j.State != adosim.JobQueued {
		t.Errorf("job after ClearEnvironmentCheck: got %s, want queued", j.State)
	}
}
