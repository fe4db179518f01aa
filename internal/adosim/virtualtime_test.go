package adosim_test

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
)

// virtualOrg is an Org with pool "p" and an offline placeholder agent (so jobs stay queued until an
// agent comes), served in process: loopback sockets do not work inside a synctest bubble, a direct
// call to the handler does.
func virtualOrg(t *testing.T, opts adosim.OrgOptions) (*adosim.Org, *adosim.Server, *http.Client) {
	t.Helper()
	org := adosim.NewOrg(opts)
	if _, err := org.AddPool("p"); err != nil {
		t.Fatal(err)
	}
	if _, err := org.AddAgent("p", adosim.AgentSpec{Name: "placeholder"}); err != nil {
		t.Fatal(err)
	}
	srv := adosim.NewServer(org, adosim.ServerOptions{PAT: testPAT, MessagePollTimeout: 50 * time.Second})
	return org, srv, &http.Client{Transport: adosim.InProcess{Handler: srv}}
}

// A long job outlives the session timeout and the lock duration: the agent's lock renewals must
// keep both alive, so the job runs once and is not requeued.
func TestLongJobKeptAliveByRenewals(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		org, srv, client := virtualOrg(t, adosim.OrgOptions{Seed: 5, SessionTimeout: 2 * time.Minute, LockDuration: 5 * time.Minute})
		const jobLen = 30*time.Minute + 10*time.Second // not a multiple of the renew interval
		id, err := org.QueueJob("p", adosim.JobSpec{Duration: jobLen})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err = adosim.RunAgent(context.Background(), adosim.AgentOptions{
			URL: "http://sim.test/" + org.Name(), Token: testPAT, Pool: "p", Name: "slow", Once: true, HTTPClient: client,
		})
		if err != nil {
			t.Fatalf("RunAgent: %v", err)
		}
		j, _ := org.Job(id)
		if j.Result != "succeeded" || j.Starts != 1 {
			t.Fatalf("job: result %q starts %d, want succeeded once", j.Result, j.Starts)
		}
		if got := j.FinishTime.Sub(j.ReceiveTime); got != jobLen {
			t.Fatalf("job ran %v of virtual time, want %v", got, jobLen)
		}
		if elapsed := time.Since(start); elapsed != jobLen {
			t.Fatalf("RunAgent took %v of virtual time, want %v", elapsed, jobLen)
		}
		patches := srv.Calls()["PATCH /{org}/_apis/distributedtask/pools/{poolId}/jobrequests/{requestId}"]
		if want := int64(jobLen/adosim.DefaultAgentRenewInterval) + 1; patches != want { // renewals plus the finish
			t.Fatalf("PATCH jobrequests calls = %d, want %d", patches, want)
		}
	})
}

// An agent that dies silently (no renewals, no polls) loses its job after the session timeout.
func TestSilentAgentLosesJobAfterSessionTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		org, _, client := virtualOrg(t, adosim.OrgOptions{Seed: 6, SessionTimeout: 2 * time.Minute})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		id, _ := org.QueueJob("p", adosim.JobSpec{Duration: time.Hour})
		go func() {
			done <- adosim.RunAgent(ctx, adosim.AgentOptions{
				URL: "http://sim.test/" + org.Name(), Token: testPAT, Pool: "p", Name: "doomed",
				HTTPClient: client, RenewInterval: time.Hour, // never renews in time
			})
		}()
		time.Sleep(time.Minute)
		synctest.Wait()
		if j, _ := org.Job(id); j.State != adosim.JobRunning {
			t.Fatalf("after 1m: job %+v, want running", j)
		}
		time.Sleep(90 * time.Second)
		synctest.Wait()
		if j, _ := org.Job(id); j.State != adosim.JobQueued || j.Starts != 1 {
			t.Fatalf("after the session timeout: state %s starts %d, want queued after one start", j.State, j.Starts)
		}
		cancel()
		<-done
	})
}
