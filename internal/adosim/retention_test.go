package adosim_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
)

// ForgetFinished drops only jobs finished longer ago than asked, keeps the one an agent still
// points at, and leaves the Org serving.
func TestForgetFinished(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		org, _, client := virtualOrg(t, adosim.OrgOptions{Seed: 3})
		runOne := func(name string) int64 {
			t.Helper()
			id, err := org.QueueJob("p", adosim.JobSpec{Duration: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			err = adosim.RunAgent(context.Background(), adosim.AgentOptions{
				URL: "http://sim.test/" + org.Name(), Token: testPAT, Pool: "p", Name: name, Once: true, HTTPClient: client,
			})
			if err != nil {
				t.Fatalf("RunAgent %s: %v", name, err)
			}
			return id
		}
		old := runOne("a1")
		last := runOne("a1") // the same agent again: its last completed job is now this one
		time.Sleep(3 * time.Minute)
		recent := runOne("a2")
		waiting, err := org.QueueJob("p", adosim.JobSpec{Duration: time.Second})
		if err != nil {
			t.Fatal(err)
		}

		got := org.ForgetFinished(2 * time.Minute)
		if len(got) != 1 || got[0].RequestID != old {
			t.Fatalf("forgot %+v, want request %d alone", got, old)
		}
		if got[0].Result != "succeeded" || got[0].Starts != 1 {
			t.Errorf("forgotten job: result %q starts %d, want it as it finished", got[0].Result, got[0].Starts)
		}
		if _, ok := org.Job(old); ok {
			t.Errorf("job %d still in the Org after it was forgotten", old)
		}
		for _, id := range []int64{last, recent, waiting} { // pinned by a1, too recent, unfinished
			if _, ok := org.Job(id); !ok {
				t.Errorf("job %d forgotten, want it kept", id)
			}
		}
		if again := org.ForgetFinished(2 * time.Minute); len(again) != 0 {
			t.Errorf("second ForgetFinished forgot %d jobs, want 0", len(again))
		}
		// The Org keeps serving: a new job runs.
		if id := runOne("a3"); id == 0 {
			t.Error("no job id after forgetting")
		}
	})
}
