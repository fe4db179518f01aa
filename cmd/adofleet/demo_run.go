package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
)

// sampleEvery is how often the demo samples the pool to integrate idle agent-seconds and to check
// whether a --jobs run is complete.
const sampleEvery = 250 * time.Millisecond

// run queues jobs and, with --jobs, waits for the pool to drain and reports.
func (d *demo) run(ctx context.Context, out io.Writer) error {
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	ctrlDone := make(chan error, 1)
	go func() { ctrlDone <- d.ctrl.Run(runCtx) }()
	if d.housekeeping != nil {
		hkDone := make(chan struct{})
		go func() { defer close(hkDone); _ = d.housekeeping.Run(runCtx) }()
		defer func() { cancelRun(); <-hkDone }()
	}

	gen, err := adosim.NewGenerator(d.org, adosim.GeneratorOptions{
		Pool: demoPool, Rate: d.opts.rate, Durations: adosim.Uniform(d.opts.minDuration, d.opts.maxDuration),
		Demands: []string{"Agent.OS -equals Linux"}, Count: d.opts.jobs, Seed: d.opts.seed, JobName: "demo job",
	})
	if err != nil {
		return fmt.Errorf("job generator: %w", err)
	}
	genDone := make(chan error, 1)
	go func() { genDone <- d.generate(runCtx, gen) }()

	started := time.Now()
	var idle idleMeter
	deadline := time.NewTimer(d.opts.timeout)
	defer deadline.Stop()
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	// Without --jobs the run is open-ended: the simulator forgets finished jobs as it goes, and
	// --duration ends it (a nil channel when unset never fires).
	var forget, stop <-chan time.Time
	if d.opts.jobs == 0 {
		ft := time.NewTicker(forgetEvery)
		defer ft.Stop()
		forget = ft.C
		if d.opts.duration > 0 {
			st := time.NewTimer(d.opts.duration)
			defer st.Stop()
			stop = st.C
		}
	}
	generated := false
	for {
		select {
		case <-forget:
			d.forget()
		case <-stop:
			cancelRun()
			<-ctrlDone
			d.printRunSummary(ctx, out, time.Since(started))
			return nil
		case <-ctx.Done():
			cancelRun()
			<-ctrlDone
			if d.opts.jobs == 0 {
				d.log.Info("demo stopped")
				return nil
			}
			return d.report(out, started, idle.seconds(), errors.New("interrupted"))
		case err := <-genDone:
			if err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("job generator: %w", err)
			}
			generated = true
		case <-deadline.C:
			if d.opts.jobs > 0 {
				cancelRun()
				<-ctrlDone
				return d.report(out, started, idle.seconds(), fmt.Errorf("timed out after %s", d.opts.timeout))
			}
		case now := <-tick.C:
			idle.sample(now, d.org.AgentsByState(demoPool)[adosim.AgentIdle])
			if d.opts.jobs > 0 && generated && d.complete(ctx) {
				cancelRun()
				<-ctrlDone
				return d.report(out, started, idle.seconds(), nil)
			}
		}
	}
}

// generate queues jobs from gen and wakes the controller for each, as a service hook or the checks
// webhook would, so the pool reacts without waiting for its resync timer.
func (d *demo) generate(ctx context.Context, gen *adosim.Generator) error {
	for queued := 0; d.opts.jobs == 0 || queued < d.opts.jobs; queued++ {
		wait, spec := gen.Next()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		if _, err := d.org.QueueJob(demoPool, spec); err != nil {
			return fmt.Errorf("queue job: %w", err)
		}
		d.countQueued()
		d.ctrl.Wake(demoPool)
	}
	return nil
}

// complete reports whether every generated job has finished and the pool is back to its
// placeholder plus exactly its standby agents (idle), with no other instance running.
func (d *demo) complete(ctx context.Context) bool {
	jobs := d.org.Jobs()
	if len(jobs) < d.opts.jobs {
		return false
	}
	for _, j := range jobs {
		if j.State != adosim.JobFinished {
			return false
		}
	}
	standby := d.opts.standby
	agents := d.org.Agents(demoPool)
	if len(agents) != 1+standby || d.org.AgentsByState(demoPool)[adosim.AgentIdle] != standby {
		return false // the placeholder (offline) stays, and so do the standby agents (idle)
	}
	insts, err := d.prov.List(ctx, demoPool)
	if err != nil {
		return false
	}
	alive := 0
	for _, in := range insts {
		if in.State.Alive() {
			alive++
		}
	}
	return alive == standby
}

// idleMeter integrates the number of idle agents over time.
type idleMeter struct {
	last  time.Time
	count int
	total time.Duration
}

func (m *idleMeter) sample(now time.Time, idle int) {
	if !m.last.IsZero() {
		m.total += time.Duration(m.count) * now.Sub(m.last)
	}
	m.last, m.count = now, idle
}

func (m *idleMeter) seconds() float64 { return m.total.Seconds() }
