package checks_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/checks"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

// The end-to-end flow of a checked pool: the simulator holds each job and calls the real check
// endpoint; a stand-in for the controller starts one --once agent per pending check; the real
// Callbacker (real ADO client, SQLite file) releases each check when an agent is online; the
// simulator then queues the job, which an agent runs.

// fleet is adofleet's side: the handler, the state store (check requests included) on one file,
// and the Callbacker. restart replaces all of them, as a new process would, on the same file.
type fleet struct {
	t      *testing.T
	dbPath string
	adoURL string

	mu     sync.RWMutex
	reqs   *checks.StoreRequests
	st     *sqlite.Store
	h      http.Handler
	stopCB func() // stops the Callbacker's loop after its current round

	wake    chan struct{}
	started atomic.Int64 // callbacker generations, for the log
}

func newFleet(t *testing.T, adoURL string) *fleet {
	f := &fleet{t: t, dbPath: filepath.Join(t.TempDir(), "adofleet.db"), adoURL: adoURL, wake: make(chan struct{}, 1)}
	f.start()
	t.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.stopCB()
		closeStore(t, f.st)
	})
	return f
}

func (f *fleet) nudge() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// start opens the stores, builds the handler and runs a Callbacker. The caller holds f.mu or
// is the constructor.
func (f *fleet) start() {
	t := f.t
	p := openChecksProcess(t, f.dbPath, ado.Options{OrgURL: f.adoURL, PAT: testPAT})
	reqs, cb := p.reqs, p.cb
	h, err := checks.NewHandler(checks.Options{
		Auth:     checks.Auth{Username: testUser, Password: testPass},
		Pool:     checks.PoolSet(testPool),
		Requests: reqs,
		Wake:     func(string) { f.nudge(); cb.Nudge() },
	})
	if err != nil {
		t.Fatal(err)
	}
	// The loop is Run's, but stops between rounds: cancelling Run mid-round could cancel a post
	// after its claim, which by design is then never re-sent (the check times out in ADO).
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			_ = cb.RunOnce(context.Background()) // a failed round is retried next tick
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	f.reqs, f.st, f.h = reqs, p.st, h
	f.stopCB = func() { close(stop); <-done }
	f.started.Add(1)
}

// restart stops the Callbacker, closes both stores and starts everything again on the same file.
func (f *fleet) restart() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopCB()
	closeStore(f.t, f.st)
	f.start()
}

// ServeHTTP serves the check endpoint of the current process; during a restart the call waits.
func (f *fleet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	f.h.ServeHTTP(w, r)
}

// known returns every check request accepted so far, pending or finished, with its pool.
func (f *fleet) pending() []checks.CheckRequest {
	f.mu.RLock()
	defer f.mu.RUnlock()
	p, err := f.reqs.Pending(context.Background(), "")
	if err != nil {
		f.t.Errorf("pending: %v", err)
	}
	return p
}

func (f *fleet) known() map[store.CallbackKey]string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := map[store.CallbackKey]string{}
	p, err := f.reqs.Pending(context.Background(), "")
	if err != nil {
		f.t.Errorf("pending: %v", err)
	}
	for _, r := range p {
		out[r.Key()] = r.Pool
	}
	done, err := f.reqs.Finished(context.Background(), "")
	if err != nil {
		f.t.Errorf("finished: %v", err)
	}
	for _, d := range done {
		out[d.Key] = d.Pool
	}
	return out
}

// standInController starts one --once agent for every check request accepted, until ctx ends, and
// returns the number of agents it started. It counts finished requests too: the Callbacker may
// release a check to an agent started for another one before this loop has seen it pending, and
// that check's job still consumes an agent (the real controller counts demand, not keys).
func standInController(ctx context.Context, f *fleet, simURL string, wg *sync.WaitGroup) *atomic.Int64 {
	var n atomic.Int64
	served := map[store.CallbackKey]bool{}
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			for key, pool := range f.known() {
				if served[key] {
					continue
				}
				served[key] = true
				name := fmt.Sprintf("jit-%d", n.Add(1))
				wg.Go(func() {
					_ = adosim.RunAgent(ctx, adosim.AgentOptions{URL: simURL, Token: testPAT, Pool: pool, Name: name,
						Once: true, PollTimeout: 5 * time.Second})
				})
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			case <-f.wake:
			}
		}
	})
	return &n
}

func TestEndToEndHundredChecksWithARestart(t *testing.T) {
	t.Parallel()
	const jobs = 100
	org, run := startCheckedSim(t, 7)
	// The offline placeholder adofleet keeps, so a released job is never failed for want of agents.
	if _, err := org.AddAgent(testPool, adosim.AgentSpec{Name: "placeholder"}); err != nil {
		t.Fatal(err)
	}
	f := newFleet(t, run.URL)
	okCalls := serveCheckEndpoint(t, org, f)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	agents := standInController(ctx, f, run.URL, &wg)

	ids := queueJobs(t, org, jobs)
	// Restart in the middle: once some checks were released and some are not yet.
	restartMidway(t, org, ids, f.restart)
	waitJobsFinished(t, org, ids, func() string {
		return fmt.Sprintf("agents started %d, agents by state %v, pending %d", agents.Load(), org.AgentsByState(testPool), len(f.pending()))
	})

	// Every job ran once and succeeded, released by exactly one succeeded callback.
	calls := checkReleasedOnce(t, org, ids, okCalls)
	if calls < jobs {
		t.Errorf("check calls made: got %d, want at least %d", calls, jobs)
	}
	t.Logf("check calls made: %d for %d jobs", calls, jobs)

	if got := agents.Load(); got != jobs {
		t.Errorf("agents started: got %d, want %d", got, jobs)
	}
	ran := 0
	for _, a := range org.Agents(testPool) {
		if a.Name != "placeholder" {
			ran += a.JobsRun
			if a.JobsRun != 1 {
				t.Errorf("agent %s ran %d jobs, want 1", a.Name, a.JobsRun)
			}
		}
	}
	if ran != jobs {
		t.Errorf("jobs run by the started agents: got %d, want %d", ran, jobs)
	}

	// adofleet's own record agrees: nothing pending, every request done once and sent.
	f.mu.RLock()
	defer f.mu.RUnlock()
	left, err := checks.PendingByPool(context.Background(), f.reqs)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("pending after the run: got %v, want none", left)
	}
	done, err := f.reqs.Finished(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != jobs {
		t.Errorf("finished requests: got %d, want %d", len(done), jobs)
	}
	for _, d := range done {
		if !d.Outcome.Sent || d.Outcome.Result != checks.ResultSucceeded {
			t.Errorf("request %v: got %+v, want sent succeeded", d.Key, d.Outcome)
		}
	}
	if g := f.started.Load(); g != 2 {
		t.Errorf("callbacker generations: got %d, want 2", g)
	}
}

// A check that no agent answers is failed by the Callbacker, and the simulator fails the job with
// the Callbacker's reason.
func TestEndToEndTimedOutCheckFailsTheJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.org.AddAgent(testPool, adosim.AgentSpec{Name: "placeholder"}); err != nil {
		t.Fatal(err)
	}
	if err := e.org.SetPoolCheck(testPool, adosim.CheckSpec{URL: e.url, SharedSecret: testSecret,
		SecretHeader: checks.DefaultSecretHeader, Timeout: time.Hour}); err != nil {
		t.Fatal(err)
	}
	id, err := e.org.QueueJob(testPool, adosim.JobSpec{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the check request", func() bool {
		p, err := e.reqs.Pending(context.Background(), testPool)
		return err == nil && len(p) == 1
	})
	cb := e.callbacker(t, 10*time.Minute)
	runOnce(t, cb)
	if j, _ := e.org.Job(id); j.State != adosim.JobWaitingForChecks {
		t.Fatalf("job before the timeout: got %s, want %s", j.State, adosim.JobWaitingForChecks)
	}
	e.clock.Advance(10 * time.Minute)
	runOnce(t, cb)
	runOnce(t, cb)
	j, _ := e.org.Job(id)
	want := "check failed: result failed: adofleet: failing the check: no agent came online in pool linux within 10m0s"
	if j.Result != "failed" || j.StatusMessage != want {
		t.Errorf("job: got %q %q, want failed %q", j.Result, j.StatusMessage, want)
	}
	if p, _ := e.org.Plan(j.CheckPlanID); p.TaskCompleted != 1 {
		t.Errorf("TaskCompleted events: got %d, want 1", p.TaskCompleted)
	}
}
