//go:build unix

package main

import (
	"context"
	"flag"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	crashSeed = flag.Uint64("crash.seed", 0, "seed of TestCrash's random kill moments (0: a new one, printed)")
	crashRuns = flag.Int("crash.runs", 2, "TestCrash's runs with random kills, per scenario")
)

// crashpointScenario names, for every crashpoint in internal/controller, the scenario that
// passes through it. TestCrash fails if a Hit call has no entry here (or an entry no Hit call).
var crashpointScenario = map[string]string{
	"launch.after-intent":    "scale-out",
	"launch.after-provider":  "scale-out",
	"launch.after-record":    "scale-out",
	"stale.after-terminate":  "scale-out",
	"stale.after-delete":     "scale-out",
	"drain.after-disable":    "scale-in",
	"drain.after-record":     "scale-in",
	"drain.after-terminate":  "scale-in",
	"drain.after-delete":     "scale-in",
	"orphan.after-terminate": "orphan",
}

// laterHits are crashes at a later hit of a point, in the middle of a batch or a loop.
var laterHits = map[string]string{
	"launch.after-record:2": "scale-out",
	"drain.after-disable:2": "scale-in",
}

// TestCrash kills `adofleet serve` with SIGKILL in the middle of a scale-out, a scale-in and an
// orphan clean-up, restarts it on the same SQLite store, and checks that ADO, EC2 and the store
// converge with every job run once and nothing doubled, orphaned or killed while busy. The kills
// come (a) at every crashpoint of internal/controller in turn and (b) at seeded random moments.
// serve runs as a child process, built once with -tags crashpoints; the simulator, the EC2 fake,
// the simulated machines and the store file live in the test and survive it.
func TestCrash(t *testing.T) {
	points := controllerCrashpoints(t)
	if diff := cmp.Diff(slices.Sorted(maps.Keys(crashpointScenario)), points); diff != "" {
		t.Fatalf("crashpoints in internal/controller vs crashpointScenario (-table +code):\n%s", diff)
	}
	checkCrashpointDoc(t, points)

	bin := buildCrashBinary(t)
	seed := *crashSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("random kills: seed %d (rerun with -crash.seed=%d)", seed, seed)

	type scenario struct{ name, kind, crashAt string }
	var scenarios []scenario
	for _, p := range points {
		scenarios = append(scenarios, scenario{p, crashpointScenario[p], p})
	}
	for _, p := range slices.Sorted(maps.Keys(laterHits)) {
		scenarios = append(scenarios, scenario{p, laterHits[p], p})
	}
	for i := range *crashRuns {
		for _, kind := range []string{"scale-out", "scale-in"} {
			scenarios = append(scenarios, scenario{"random/" + kind + "/" + strconv.Itoa(i), kind, ""})
		}
	}
	for i, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			rnd := rand.New(rand.NewPCG(seed, uint64(i)))
			ctx, cancel := context.WithTimeout(context.Background(), 3*crashWait)
			defer cancel()
			r := newCrashRig(t, bin)
			switch sc.kind {
			case "scale-out":
				crashScaleOut(ctx, r, sc.crashAt, rnd)
			case "scale-in":
				crashScaleIn(ctx, r, sc.crashAt, rnd)
			case "orphan":
				crashOrphan(ctx, r, sc.crashAt)
			default:
				t.Fatalf("unknown scenario kind %q", sc.kind)
			}
			if t.Failed() && sc.crashAt == "" {
				t.Logf("random kills of this run come from seed %d, stream %d", seed, i)
			}
		})
	}
}

// crashScaleOut queues more jobs than max for one-job agents and crashes during the launches
// and the clean-up of finished agents.
func crashScaleOut(ctx context.Context, r *crashRig, crashAt string, rnd *rand.Rand) {
	const jobs = 4
	r.writeConfig(crashPoolOpts{max: 3, idleTimeout: "5s", registration: "30s", oneJob: true})
	c := r.start(crashAt)
	r.waitPlaceholder(ctx, c)
	r.queue(jobs)
	if crashAt != "" {
		r.expectCrash(ctx, c, crashAt)
	} else {
		r.randomKills(ctx, c, rnd, 2, time.Second, nil)
	}
	r.converge(ctx, r.start(""), jobs, jobs)
}

// crashScaleIn brings up long-lived agents, lets them go idle, then restarts serve with a short
// idle timeout so it drains them all, and crashes during the drains. Random runs also queue one
// more job at a random moment, racing the drains.
func crashScaleIn(ctx context.Context, r *crashRig, crashAt string, rnd *rand.Rand) {
	const jobs = 3
	opts := crashPoolOpts{max: 3, idleTimeout: "1h", registration: "30s", oneJob: false}
	r.writeConfig(opts)
	warm := r.start("")
	r.waitPlaceholder(ctx, warm)
	r.queue(jobs)
	r.waitFor(ctx, warm, "every job done and every agent idle", func() bool {
		if !allJobsFinished(r.org) {
			return false
		}
		idle := 0
		for _, a := range r.org.Agents(crashPool) {
			if a.Online && a.Enabled && a.AssignedRequest == 0 {
				idle++
			}
		}
		live := 0
		for _, in := range r.ec2.Instances() {
			if !ec2Ended(in.State) {
				live++
			}
		}
		return live > 0 && idle == live
	})
	r.stop(warm)

	opts.idleTimeout = "100ms"
	r.writeConfig(opts)
	c := r.start(crashAt)
	want := jobs
	if crashAt != "" {
		r.expectCrash(ctx, c, crashAt)
	} else {
		want++
		r.randomKills(ctx, c, rnd, 2, 400*time.Millisecond, func() { r.queue(1) })
	}
	r.converge(ctx, r.start(""), want, want)
}

// crashOrphan starts two one-job agents of which the first machine never runs its agent, so the
// controller terminates it as an orphan after the registration timeout, and crashes there.
func crashOrphan(ctx context.Context, r *crashRig, crashAt string) {
	const jobs = 2
	r.vms.breakNext(1)
	r.writeConfig(crashPoolOpts{max: 2, idleTimeout: "5s", registration: "3s", oneJob: true})
	c := r.start(crashAt)
	r.waitPlaceholder(ctx, c)
	r.queue(jobs)
	r.expectCrash(ctx, c, crashAt)
	r.converge(ctx, r.start(""), jobs, jobs+1)
}

// randomKills SIGKILLs serve n times, each at a random moment in the window after it started
// serving, restarting it after all but the last kill; extra, if set, runs once at a random
// moment in between.
func (r *crashRig) randomKills(ctx context.Context, c *crashChild, rnd *rand.Rand, n int, window time.Duration, extra func()) {
	r.t.Helper()
	extraAt := rnd.IntN(n)
	for i := range n {
		r.waitLogged(ctx, c, "adofleet serving")
		delay := time.Duration(rnd.Int64N(int64(window)))
		waits := []time.Duration{delay}
		if extra != nil && i == extraAt {
			before := time.Duration(rnd.Int64N(int64(delay) + 1))
			waits = []time.Duration{before, delay - before}
		}
		for k, d := range waits {
			if err := sleepOrExit(c, d); err != nil {
				r.t.Fatalf("%s: exited (%v) before its random kill", c.label, c.state)
			}
			if k == 0 && len(waits) > 1 {
				extra()
			}
		}
		c.kill()
		r.t.Logf("%s: SIGKILL at +%v", c.label, delay)
		if i < n-1 {
			c = r.start("")
		}
	}
}

// buildCrashBinary builds adofleet with -tags crashpoints into the test's temporary directory.
func buildCrashBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "adofleet")
	cmd := exec.Command("go", "build", "-tags", "crashpoints", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags crashpoints: %v\n%s", err, out)
	}
	return bin
}

var hitCall = regexp.MustCompile(`crashpoint\.Hit\("([^"]+)"\)`)

// controllerCrashpoints returns the sorted names of the Hit calls in internal/controller.
func controllerCrashpoints(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../internal/controller/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("list internal/controller: %v (%d files)", err, len(files))
	}
	var names []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range hitCall.FindAllStringSubmatch(string(b), -1) {
			if !slices.Contains(names, m[1]) {
				names = append(names, m[1])
			}
		}
	}
	slices.Sort(names)
	return names
}

// checkCrashpointDoc fails unless the package comment of internal/crashpoint lists every point.
func checkCrashpointDoc(t *testing.T, points []string) {
	t.Helper()
	b, err := os.ReadFile("../../internal/crashpoint/crashpoint.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range points {
		if !regexp.MustCompile(`(?m)^//\s+` + regexp.QuoteMeta(p) + `\s`).Match(b) {
			t.Errorf("internal/crashpoint's package comment does not list crashpoint %q", p)
		}
	}
}
