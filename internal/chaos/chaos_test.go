package chaos

import (
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/adofleet/adofleet/internal/faultinject"
)

var (
	seedFlag   = flag.Int64("chaos.seed", 0, "seed of the chaos test (0: a new random seed each run)")
	cyclesFlag = flag.Int("chaos.cycles", 0, "steps with faults on; each step reconciles every pool once (0: 1200, 300 under -race)")
	faultsFlag = flag.String("chaos.faults", "moderate,launchfail=0.15,loss=0.01,terminatefail=0.2,storefail=0.05,leasefail=0.1",
		"fault rates (faultinject.ParseRates syntax)")
	pauseFlag = flag.String("chaos.pause", "renewal",
		"how a pause of the leader stops it: renewal (its reconcile stops and its lease renewals fail) or process (everything stops, renewals included)")
)

// defaultSteps is the steps of a run without -chaos.cycles.
var defaultSteps = 1200

// recoverySteps bounds the cycles the pools get, faults off, to agree again: long enough for
// every queued job to run and every idle agent to be drained.
const recoverySteps = 400

// TestChaos runs the controller for -chaos.cycles steps with faults on, checking the invariants
// after every cycle, then turns the faults off and checks that it converges.
func TestChaos(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = rand.Int64N(1<<31) + 1
	}
	steps := *cyclesFlag
	if steps <= 0 {
		steps = defaultSteps
	}
	rates, err := faultinject.ParseRates(*faultsFlag)
	if err != nil {
		t.Fatalf("-chaos.faults: %v", err)
	}
	if *pauseFlag != "renewal" && *pauseFlag != "process" {
		t.Fatalf("-chaos.pause=%q: want renewal or process", *pauseFlag)
	}
	t.Logf("seed %d, %d steps, faults %s, pause %s", seed, steps, rates, *pauseFlag)
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, seed, rates, *pauseFlag == "process")
		fail := func(phase string, step int, problems []string) {
			t.Helper()
			t.Fatalf("chaos seed %d: %s, step %d:\n  %s\n\nlast log lines:\n%s\n\nrerun with -chaos.seed=%d",
				seed, phase, step, strings.Join(problems, "\n  "), w.logs, seed)
		}
		for step := range steps {
			w.cycle(step, true)
			if v := w.broken(); len(v) > 0 {
				fail("invariant broken with faults on", step, v)
			}
		}
		injected := w.inj.Counts()
		w.inj.SetEnabled(false)
		took, problems := w.recover(recoverySteps)
		if v := w.broken(); len(v) > 0 {
			fail("invariant broken during recovery", steps+took, v)
		}
		if len(problems) > 0 {
			fail(fmt.Sprintf("no agreement after %d recovery cycles", took), steps+took, problems)
		}
		t.Logf("seed %d: %d cycles (%d pools x %d steps) with faults, %d to recover; %d jobs, %d ran, %d retried after a lost instance, %d drain races; faults injected: %d %s",
			seed, steps*len(w.pools), len(w.pools), steps, took, len(w.works), w.finished, w.retried, w.races,
			w.inj.Total(), formatCounts(injected))
		t.Logf("checks: %s", &w.checks)
		t.Logf("leases: %s", &w.leases)
	})
}

func formatCounts(c map[string]int64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, c[k]))
	}
	return strings.Join(parts, " ")
}
