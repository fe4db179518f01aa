package checks_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/checks"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

// Shared by the end-to-end tests (the stand-in controller's and the real controller's): the
// simulator, the check endpoint in front of a fleet, the stores one process opens, and the
// waits and assertions on a run of checked jobs.

// startCheckedSim starts a simulator org with testPool over loopback; it is closed when the test ends.
func startCheckedSim(t *testing.T, seed uint64) (*adosim.Org, *adosim.Running) {
	t.Helper()
	org := adosim.NewOrg(adosim.OrgOptions{Name: "fabrikam", Project: "web", Seed: seed})
	if _, err := org.AddPool(testPool); err != nil {
		t.Fatal(err)
	}
	run, err := adosim.NewServer(org, adosim.ServerOptions{PAT: testPAT, MessagePollTimeout: 2 * time.Second}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run.Close() })
	return org, run
}

// okCalls counts the check endpoint's 200 answers by check plan id.
type okCalls struct{ m sync.Map } // plan id -> *atomic.Int64

func (c *okCalls) add(planID string) {
	n, _ := c.m.LoadOrStore(planID, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
}

func (c *okCalls) get(planID string) int64 {
	n, ok := c.m.Load(planID)
	if !ok {
		return 0
	}
	return n.(*atomic.Int64).Load()
}

// serveCheckEndpoint serves h over loopback as testPool's check (basic auth, quick retries) and
// counts its 200 answers.
func serveCheckEndpoint(t *testing.T, org *adosim.Org, h http.Handler) *okCalls {
	t.Helper()
	ok := &okCalls{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		if rec.code == http.StatusOK {
			ok.add(r.Header.Get("PlanId"))
		}
	}))
	t.Cleanup(srv.Close)
	if err := org.SetPoolCheck(testPool, adosim.CheckSpec{URL: srv.URL + "/v1/checks/" + testPool,
		Username: testUser, Password: testPass, Timeout: time.Hour, RetryDelay: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	return ok
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// checksProcess is what one adofleet process opens on the state file for checks.
type checksProcess struct {
	st     *sqlite.Store
	reqs   *checks.StoreRequests
	client *ado.Client
	cb     *checks.Callbacker
}

// openChecksProcess opens the store (which keeps the check requests) on dbPath and builds a Callbacker
// against the simulator. A short ReserveFor: a reservation ends only when its own agent takes a
// job, so when another agent takes the released job the reserved agent is held for all of it.
func openChecksProcess(t *testing.T, dbPath string, adoOpts ado.Options) checksProcess {
	t.Helper()
	p := checksProcess{}
	st, err := sqlite.Open(context.Background(), dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reqs := checks.NewStoreRequests(st)
	p.st, p.reqs = st, reqs
	if p.client, err = ado.New(adoOpts); err != nil {
		t.Fatal(err)
	}
	p.cb, err = checks.NewCallbacker(checks.CallbackerOptions{
		Requests: reqs, Claims: st, ADO: p.client, Timeout: time.Hour, ReserveFor: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// closeStore closes a process's store, reporting a failure.
func closeStore(t *testing.T, st *sqlite.Store) {
	t.Helper()
	if err := st.Close(); err != nil {
		t.Errorf("close store: %v", err)
	}
}

// queueJobs queues n short jobs on testPool at once and returns their ids.
func queueJobs(t *testing.T, org *adosim.Org, n int) []int64 {
	t.Helper()
	ids := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id, err := org.QueueJob(testPool, adosim.JobSpec{Duration: 5 * time.Millisecond})
			if err != nil {
				t.Errorf("QueueJob: %v", err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	return ids
}

// waitJobsFinished waits for every job of ids to finish; on giving up it fails the test with the
// jobs by state and what more describes.
func waitJobsFinished(t *testing.T, org *adosim.Org, ids []int64, more func() string) {
	t.Helper()
	if poll(func() bool {
		for _, id := range ids {
			if j, _ := org.Job(id); j.State != adosim.JobFinished {
				return false
			}
		}
		return true
	}) {
		return
	}
	states := map[adosim.JobState]int{}
	for _, id := range ids {
		j, _ := org.Job(id)
		states[j.State]++
	}
	t.Fatalf("gave up waiting for every job to finish: jobs by state %v, %s", states, more())
}

// checkReleasedOnce asserts that every job ran once and succeeded, released by exactly one
// succeeded callback after exactly one accepted check call; it returns the check calls ADO made.
func checkReleasedOnce(t *testing.T, org *adosim.Org, ids []int64, ok *okCalls) int {
	t.Helper()
	calls := 0
	for _, id := range ids {
		j, _ := org.Job(id)
		if j.Result != "succeeded" || j.Starts != 1 {
			t.Errorf("job %d: got result %q starts %d (%s), want succeeded once", id, j.Result, j.Starts, j.StatusMessage)
		}
		calls += j.CheckCalls
		p, _ := org.Plan(j.CheckPlanID)
		if p.TaskCompleted != 1 || len(p.Events) != 1 || p.Events[0].Result != checks.ResultSucceeded {
			t.Errorf("job %d: check plan got %d TaskCompleted, events %+v; want one succeeded", id, p.TaskCompleted, p.Events)
		}
		if ok.get(j.CheckPlanID) != 1 {
			t.Errorf("job %d: the check endpoint did not accept its call exactly once", id)
		}
	}
	return calls
}

// restartMidway restarts the fleet once some checks were released and some are not yet.
func restartMidway(t *testing.T, org *adosim.Org, ids []int64, restart func()) {
	t.Helper()
	waitFor(t, "a third of the checks to be released", func() bool { return countReleased(org, ids) >= len(ids)/3 })
	before := countReleased(org, ids)
	restart()
	t.Logf("restarted with %d of %d checks released", before, len(ids))
}

// countReleased counts the jobs whose check has passed.
func countReleased(org *adosim.Org, ids []int64) int {
	n := 0
	for _, id := range ids {
		if j, _ := org.Job(id); j.State != adosim.JobWaitingForChecks && j.Result != "failed" {
			n++
		}
	}
	return n
}

// waitFor polls cond; the bound only gives up, it asserts no duration.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !poll(cond) {
		t.Fatalf("gave up waiting for %s", what)
	}
}

func poll(cond func() bool) bool {
	for range 6000 {
		if cond() {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}
