package checks_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/checks"
)

// The same flow for a check on an Environment: the deployment jobs target the environment "prod"
// and run on pool linux; the environment's check calls /v1/checks/linux (the pool the jobs run
// on), the real handler records each call, the real Callbacker (SQLite, real ADO client) calls back
// once an agent the stand-in controller started is online, and the simulator then queues the job.
func TestEndToEndEnvironmentCheck(t *testing.T) {
	t.Parallel()
	const jobs = 5
	org := adosim.NewOrg(adosim.OrgOptions{Name: "fabrikam", Project: "web", Seed: 11})
	if _, err := org.AddPool(testPool); err != nil {
		t.Fatal(err)
	}
	if _, err := org.AddAgent(testPool, adosim.AgentSpec{Name: "placeholder"}); err != nil {
		t.Fatal(err)
	}
	envID, err := org.AddEnvironment("web", "prod")
	if err != nil {
		t.Fatal(err)
	}
	run, err := adosim.NewServer(org, adosim.ServerOptions{PAT: testPAT, MessagePollTimeout: 2 * time.Second}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run.Close() })

	f := newFleet(t, run.URL)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	if err := org.SetEnvironmentCheck("web", envID, adosim.CheckSpec{URL: srv.URL + "/v1/checks/" + testPool,
		Username: testUser, Password: testPass, Timeout: time.Hour}); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	agents := standInController(ctx, f, run.URL, &wg)

	ids := make([]int64, jobs)
	for i := range ids {
		id, err := org.QueueJob(testPool, adosim.JobSpec{JobName: "Deploy", Project: "web", Environment: envID, Duration: 5 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	waitFor(t, "every deployment job to finish", func() bool {
		for _, id := range ids {
			if j, _ := org.Job(id); j.State != adosim.JobFinished {
				return false
			}
		}
		return true
	})

	for _, id := range ids {
		j, _ := org.Job(id)
		if j.Result != "succeeded" || j.Starts != 1 {
			t.Errorf("job %d: got result %q starts %d (%s), want succeeded once", id, j.Result, j.Starts, j.StatusMessage)
		}
		if len(j.Checks) != 1 || j.Checks[0].Resource != adosim.CheckOnEnvironment || !j.Checks[0].Passed {
			t.Errorf("job %d: got checks %+v, want the environment's, passed", id, j.Checks)
		}
		p, _ := org.Plan(j.CheckPlanID)
		if p.TaskCompleted != 1 || len(p.Events) != 1 || p.Events[0].Result != checks.ResultSucceeded {
			t.Errorf("job %d: check plan got %d TaskCompleted, events %+v; want one succeeded", id, p.TaskCompleted, p.Events)
		}
	}
	if got := agents.Load(); got != jobs {
		t.Errorf("agents started: got %d, want %d", got, jobs)
	}

	f.mu.RLock()
	defer f.mu.RUnlock()
	done, err := f.reqs.Finished(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != jobs {
		t.Errorf("finished requests: got %d, want %d", len(done), jobs)
	}
	for _, d := range done {
		if d.Pool != testPool || !d.Outcome.Sent || d.Outcome.Result != checks.ResultSucceeded {
			t.Errorf("request %v: got pool %s %+v, want pool %s, sent succeeded", d.Key, d.Pool, d.Outcome, testPool)
		}
	}
}
