package main

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/store"
)

// gcResult matches the result a step line ends with.
var gcResult = regexp.MustCompile(`: (done|dry run|failed: .*|kept: .*)$`)

// gcPlan is gc's output reduced to the plan: the step lines without their results, and no
// summary.
func gcPlan(out string) []string {
	var plan []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, "gc: ") {
			continue
		}
		plan = append(plan, gcResult.ReplaceAllString(l, ""))
	}
	return plan
}

func TestGCRemovesOnlyWhatItShould(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		args          []string
		election      bool
		gone          []string // agents gc deletes from the pool
		idleTerminate bool     // the idle agent's instance and the orphan instance are terminated
	}{
		{name: "default", gone: []string{gcOff1, gcOff2}, election: true},
		{name: "terminate", args: []string{"--terminate"}, gone: []string{gcOff1, gcOff2, gcIdle}, idleTerminate: true},
		{name: "placeholders", args: []string{"--placeholders"}, gone: []string{gcOff1, gcOff2, gcPlaceholder}},
		{name: "everything", args: []string{"--terminate", "--placeholders", "--pool", "build"}, gone: []string{gcOff1, gcOff2, gcIdle, gcPlaceholder}, idleTerminate: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			f := newGCFixture(t, ctx, tt.election)
			all := sortedNames(gcOff1, gcOff2, gcIdle, gcBusy, gcForeign, gcPlaceholder)
			args := append([]string{"gc", "-c", f.cfgPath}, tt.args...)

			// Without --apply gc is a dry run: it prints the plan and the command that applies it.
			dryOut, stderr, err := runCLI(ctx, args...)
			if err != nil {
				t.Fatalf("gc (dry run): %v\nstderr:\n%s", err, stderr)
			}
			if got := f.agents(); !cmp.Equal(got, all) {
				t.Errorf("after a dry run the pool has %v, want all of %v", got, all)
			}
			if !f.alive(t, ctx, gcIdle) {
				t.Error("a dry run terminated the idle agent's instance")
			}
			if got := f.states(t, ctx); got[gcOff1] != store.StateRegistered {
				t.Errorf("a dry run changed record %s to %s", gcOff1, got[gcOff1])
			}
			applyLine := "gc: to carry this plan out, run: adofleet gc -c " + f.cfgPath + " " + strings.Join(append(slices.Clone(tt.args), "--apply"), " ")
			if lines := strings.Split(strings.TrimSpace(dryOut), "\n"); lines[len(lines)-1] != applyLine {
				t.Errorf("a dry run's last line is %q, want %q", lines[len(lines)-1], applyLine)
			}

			out, stderr, err := runCLI(ctx, append(args, "--apply")...)
			if err != nil {
				t.Fatalf("gc --apply: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr)
			}
			if diff := cmp.Diff(gcPlan(out), gcPlan(dryOut)); diff != "" {
				t.Errorf("the dry run's plan differs from --apply's (-apply +dry):\n%s", diff)
			}
			want := slices.DeleteFunc(slices.Clone(all), func(n string) bool { return slices.Contains(tt.gone, n) })
			if diff := cmp.Diff(want, f.agents()); diff != "" {
				t.Errorf("agents left in the pool (-want +got):\n%s\noutput:\n%s", diff, out)
			}
			if f.agent(gcBusy).AssignedRequest == 0 {
				t.Errorf("the busy agent lost its job")
			}
			if !f.alive(t, ctx, gcBusy) {
				t.Errorf("the busy agent's instance was terminated")
			}
			for _, name := range []string{gcIdle, gcOrphan} {
				if tt.idleTerminate {
					eventually(t, ctx, name+"'s instance ended", func() bool { return !f.alive(t, ctx, name) })
				} else if !f.alive(t, ctx, name) {
					t.Errorf("%s's instance was terminated without --terminate", name)
				}
			}
			states := f.states(t, ctx)
			for _, name := range []string{gcOff1, gcOff2, gcIdle, gcBusy, gcOrphan} {
				want := store.StateRegistered
				switch {
				case slices.Contains(tt.gone, name), name == gcOrphan && tt.idleTerminate:
					want = store.StateGone
				case name == gcOrphan:
					want = store.StateLaunched
				}
				if states[name] != want {
					t.Errorf("record %s is %s, want %s", name, states[name], want)
				}
			}
			if !strings.Contains(out, "left alone 1 agent adofleet did not create") {
				t.Errorf("summary does not count the foreign agent:\n%s", out)
			}
			if !strings.Contains(out, "store: run one housekeeping pass: done") {
				t.Errorf("no housekeeping pass in the output:\n%s", out)
			}
			if strings.Contains(out+stderr+dryOut, gcPAT) {
				t.Error("gc printed the PAT")
			}
			if tt.election {
				// gc released the lease: a controller starting now leads at once.
				st := f.openStore(t, ctx)
				defer st.Close()
				if _, err := st.AcquireLease(ctx, "adofleet-controller", "serve-after-gc", time.Minute, time.Now()); err != nil {
					t.Errorf("acquire the lease after gc: %v", err)
				}
			}
		})
	}
}

// TestGCFailedDeleteExitsOneAndDoesTheRest: ADO refuses one delete; gc reports it, deletes the
// other agent, and exits 1.
func TestGCFailedDeleteExitsOneAndDoesTheRest(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := newGCFixture(t, ctx, false)
	f.failDel.Store(int64(f.agentID[gcOff1]))
	out, _, err := runCLI(ctx, "gc", "-c", f.cfgPath, "--apply")
	var ec exitCodeError
	if !asExit(err, &ec) || ec.code != 1 {
		t.Fatalf("err = %v, want exit code 1\noutput:\n%s", err, out)
	}
	if got, want := f.agents(), sortedNames(gcOff1, gcIdle, gcBusy, gcForeign, gcPlaceholder); !cmp.Equal(got, want) {
		t.Errorf("pool has %v, want %v", got, want)
	}
	if !regexp.MustCompile(`(?m)^build: delete agent ` + gcOff1 + ` \(.*\): failed: .*403`).MatchString(out) {
		t.Errorf("no failed line for %s:\n%s", gcOff1, out)
	}
	states := f.states(t, ctx)
	if got := []store.AgentState{states[gcOff1], states[gcOff2]}; !cmp.Equal(got, []store.AgentState{store.StateRegistered, store.StateGone}) {
		t.Errorf("records %s, %s = %v, want [registered gone]", gcOff1, gcOff2, got)
	}
	if !strings.Contains(out, "1 failed") {
		t.Errorf("summary does not count the failure:\n%s", out)
	}
}

// TestGCRefusesWhileAControllerLeads: with store leader election, a lease held by another
// process makes gc refuse before it changes anything.
func TestGCRefusesWhileAControllerLeads(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := newGCFixture(t, ctx, true)
	st := f.openStore(t, ctx)
	if _, err := st.AcquireLease(ctx, "adofleet-controller", "serve-replica-1", time.Hour, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// A dry run takes no lease: it runs, and prints its plan, beside the controller.
	dryOut, _, err := runCLI(ctx, "gc", "-c", f.cfgPath, "--terminate", "--placeholders")
	if err != nil {
		t.Fatalf("gc (dry run) beside a controller: %v", err)
	}
	if !strings.Contains(dryOut, "dry run: nothing was changed") {
		t.Errorf("dry run beside a controller printed no plan summary:\n%s", dryOut)
	}
	out, _, err := runCLI(ctx, "gc", "-c", f.cfgPath, "--terminate", "--placeholders", "--apply")
	var ec exitCodeError
	if !asExit(err, &ec) || ec.code != 1 {
		t.Fatalf("err = %v, want exit code 1", err)
	}
	if !strings.Contains(err.Error(), "serve-replica-1") || !strings.Contains(err.Error(), "stop the controller") {
		t.Errorf("err = %v, want it to name the holder and say to stop the controller", err)
	}
	if got, want := f.agents(), sortedNames(gcOff1, gcOff2, gcIdle, gcBusy, gcForeign, gcPlaceholder); !cmp.Equal(got, want) {
		t.Errorf("pool has %v after a refusal, want every agent %v\noutput:\n%s", got, want, out)
	}
	if !f.alive(t, ctx, gcIdle) {
		t.Error("a refused gc terminated an instance")
	}
}

// TestGCClosesALostRecord: a store record whose agent and instance are both gone (serve would
// close it on its next cycle, but serve is gone) is listed by the dry run and marked gone by
// --apply; the summary counts it.
func TestGCClosesALostRecord(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := newGCFixture(t, ctx, false)
	st := f.openStore(t, ctx)
	now := time.Now().UTC()
	lost := store.AgentRecord{Name: "build-lost0001", Pool: "build", State: store.StateRegistered, InstanceID: "local-gone-1",
		CreatedAt: now.Add(-time.Hour), UpdatedAt: now.Add(-time.Hour)}
	if err := st.CreateAgent(ctx, lost); err != nil {
		t.Fatal(err)
	}
	st.Close()

	line := regexp.MustCompile(`(?m)^build: mark gone record build-lost0001 \(its agent is not in the pool and its instance is gone\)`)
	dry, _, err := runCLI(ctx, "gc", "-c", f.cfgPath)
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, dry)
	}
	if !line.MatchString(dry) || !strings.Contains(dry, "close 1 lost record") {
		t.Errorf("dry run does not plan closing the lost record:\n%s", dry)
	}
	if got := f.states(t, ctx)["build-lost0001"]; got != store.StateRegistered {
		t.Errorf("after the dry run the record is %s, want registered", got)
	}
	out, _, err := runCLI(ctx, "gc", "-c", f.cfgPath, "--apply")
	if err != nil {
		t.Fatalf("gc --apply: %v\n%s", err, out)
	}
	if !line.MatchString(out) || !strings.Contains(out, "closed 1 lost record") {
		t.Errorf("gc --apply does not report closing the lost record:\n%s", out)
	}
	if got := f.states(t, ctx)["build-lost0001"]; got != store.StateGone {
		t.Errorf("after gc --apply the record is %s, want gone", got)
	}
}
