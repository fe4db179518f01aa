package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/faultinject"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/store"
)

// demoJobRetention is how long a run without --jobs keeps a finished job in the simulator before
// tallying and forgetting it: long enough for the controller and the dashboard to have seen it
// finish, short enough that a soak's memory reaches its plateau within its warm-up.
const demoJobRetention = 2 * time.Minute

// forgetEvery is how often a run without --jobs forgets finished jobs.
const forgetEvery = 10 * time.Second

// demoFaults is the --faults wiring: nil when the demo runs without faults.
type demoFaults struct {
	inj *faultinject.Injector
}

// newDemoFaults parses spec (the faultinject.ParseRates syntax) and seeds the injector.
func newDemoFaults(spec string, seed uint64) (*demoFaults, error) {
	r, err := faultinject.ParseRates(spec)
	if err != nil {
		return nil, fmt.Errorf("--faults: %w", err)
	}
	if r.Zero() {
		return nil, nil
	}
	return &demoFaults{inj: faultinject.New(int64(seed), r)}, nil
}

// startControllerSim serves org a second time with the ADO faults, for the controller alone: the
// simulated agents keep the clean server, as real agents and the controller reach ADO separately.
// It returns the faulty server's URL and the HTTP client (losing responses) for the ADO client.
func (f *demoFaults) startControllerSim(org *adosim.Org, pat string, d *demo) (string, *http.Client, error) {
	srv, err := adosim.NewServer(org, adosim.ServerOptions{
		PAT: pat, Faults: f.inj.ADO(), Logger: d.log.With("component", "adosim", "faults", true),
	}).Start("127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("simulator with faults: %w", err)
	}
	d.closer = append(d.closer, func() { _ = srv.Close() })
	return srv.URL, &http.Client{Transport: f.inj.Transport(nil)}, nil
}

func (f *demoFaults) provider(p provider.Provider) provider.Provider {
	if f == nil {
		return p
	}
	return f.inj.Provider(p)
}

func (f *demoFaults) store(s store.Store) store.Store {
	if f == nil {
		return s
	}
	return f.inj.Store(s)
}

func (f *demoFaults) counts() map[string]int64 {
	if f == nil {
		return nil
	}
	return f.inj.Counts()
}

// pprofMounts exposes net/http/pprof on the dashboard's listener, to find what a soak says leaks.
func pprofMounts(on bool) []mount {
	if !on {
		return nil
	}
	return []mount{
		{pattern: "/debug/pprof/", handler: http.HandlerFunc(pprof.Index)},
		{pattern: "/debug/pprof/cmdline", handler: http.HandlerFunc(pprof.Cmdline)},
		{pattern: "/debug/pprof/profile", handler: http.HandlerFunc(pprof.Profile)},
		{pattern: "/debug/pprof/symbol", handler: http.HandlerFunc(pprof.Symbol)},
		{pattern: "/debug/pprof/trace", handler: http.HandlerFunc(pprof.Trace)},
	}
}

// jobTally counts the jobs a long run has forgotten, so that its totals cover the whole run.
type jobTally struct {
	mu        sync.Mutex
	queued    int64
	succeeded int64
	failed    int64 // any result but succeeded
	ranTwice  int64
}

// forget drops the simulator's jobs finished more than demoJobRetention ago and tallies them;
// the lock makes a metrics scrape see each job either in the simulator or in the tally.
func (d *demo) forget() {
	d.tally.mu.Lock()
	defer d.tally.mu.Unlock()
	for _, j := range d.org.ForgetFinished(demoJobRetention) {
		d.tally.add(j)
	}
}

func (t *jobTally) add(j adosim.JobInfo) {
	if j.State != adosim.JobFinished {
		return
	}
	if j.Result == "succeeded" {
		t.succeeded++
	} else {
		t.failed++
	}
	if j.Starts > 1 {
		t.ranTwice++
	}
}

// jobCounts is the whole run's jobs: the tally plus what the simulator still holds.
type jobCounts struct {
	queued, succeeded, failed, ranTwice, unfinished int64
}

func (d *demo) jobCounts() jobCounts {
	d.tally.mu.Lock()
	defer d.tally.mu.Unlock()
	now := jobTally{queued: d.tally.queued, succeeded: d.tally.succeeded, failed: d.tally.failed, ranTwice: d.tally.ranTwice}
	var unfinished int64
	for _, j := range d.org.Jobs() {
		if j.State != adosim.JobFinished {
			unfinished++
		}
		now.add(j)
	}
	return jobCounts{queued: now.queued, succeeded: now.succeeded, failed: now.failed, ranTwice: now.ranTwice, unfinished: unfinished}
}

func (d *demo) countQueued() {
	d.tally.mu.Lock()
	d.tally.queued++
	d.tally.mu.Unlock()
}

// printRunSummary ends a --duration run: the whole run's jobs and the faults injected. The
// verdict (did anything leak, did jobs keep finishing) is the soak harness's, from /metrics.
func (d *demo) printRunSummary(ctx context.Context, w io.Writer, elapsed time.Duration) {
	c := d.jobCounts()
	alive := 0
	if insts, err := d.local.List(ctx, demoPool); err == nil {
		for _, in := range insts {
			if in.State.Alive() {
				alive++
			}
		}
	}
	fmt.Fprintf(w, "ran %s: %d jobs queued, %d succeeded, %d failed, %d unfinished, %d ran twice, %d agent processes alive\n",
		elapsed.Round(time.Second), c.queued, c.succeeded, c.failed, c.unfinished, c.ranTwice, alive)
	if d.faults != nil {
		fmt.Fprintf(w, "faults injected (%s): %d %v\n", d.faults.inj.Rates(), d.faults.inj.Total(), d.faults.counts())
	}
}
