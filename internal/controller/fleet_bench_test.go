package controller_test

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/fake"
	"github.com/adofleet/adofleet/internal/scaler"
	"github.com/adofleet/adofleet/internal/store"
)

// fleetShape is issue 7's "100 pools with 10,000 agents": every pool in the steady state of
// benchShape (busy agents holding jobs, idle agents Min keeps, queued jobs with an instance
// starting for each), the same shape in each pool.
type fleetShape struct {
	pools int
	benchShape
}

func (f fleetShape) agents() int { return f.pools * (f.busy + f.idle) }

// BenchmarkReconcileFleet is one reconcile cycle of every pool of a fleet, run as serve's loops
// and the Lambda reconcile run them: concurrently, at most controller.DefaultMaxConcurrentCycles
// at once (ReconcileAll), over the ADO client's own transport. An op is what Run's per-pool loops
// do between them in one resync period. With cycles=serial the pools are reconciled one after
// another instead (ReconcileOnce in turn), as this benchmark did up to the sixth round of issue 7.
// The plan is empty in every pool; see BenchmarkReconcileOnce for what that measures and for the
// two ado modes.
//
// Besides time and allocations it reports per op the ADO calls, the bytes of ADO answers, the
// process CPU, and, after the loop, the controller's retained heap: the heap in use after a cycle
// (and a GC) with the controller, minus the same once the controller is unreachable.
//
// The SQLite store answers ListAgents from its cache while the database is unchanged, as it is
// in the steady state (ado=sim, ado=replay). With ado=replay,store=written every op first
// appends one decision, which changes the database and so makes every pool read its records
// again: the cost of a cycle in a fleet where something is written between any two cycles.
func BenchmarkReconcileFleet(b *testing.B) {
	sh := fleetShape{pools: 100, benchShape: benchShape{busy: 100, queued: 10}}
	modes := []string{"sim", "replay", "replay,server=process", "replay,server=process,cycles=serial", "replay,store=written"}
	for _, mode := range modes {
		name := fmt.Sprintf("pools=%d/agents=%d/ado=%s", sh.pools, sh.agents(), mode)
		has := func(flag string) bool { return slices.Contains(strings.Split(mode, ","), flag) }
		b.Run(name, func(b *testing.B) {
			benchFleet(b, sh, fleetMode{replay: has("replay"), process: has("server=process"),
				write: has("store=written"), serial: has("cycles=serial")})
		})
	}
}

// fleetMode is how benchFleet runs; see BenchmarkReconcileFleet.
type fleetMode struct{ replay, process, write, serial bool }

// benchFleet measures one cycle of the fleet. With process set, the recorded answers are served
// from a process of their own (see startReplayProcess): cpu-ns/op is then the controller's CPU,
// its GC and the fake providers, without the simulator's heap or the server's work, which
// server-cpu-ns/op reports apart.
func benchFleet(b *testing.B, sh fleetShape, m fleetMode) {
	s := newFleetStack(b, sh)
	s.replay.Store(m.replay)
	ctx := b.Context()
	s.cycle(b) // records the answers for replay
	if m.process {
		s.startReplayProcess(b)
		runtime.GC()
	}
	s.measure(b, func() int {
		if m.write {
			d := store.Decision{Time: time.Now(), Pool: s.pools[0], Action: "bench", Reason: "change the database"}
			if err := s.st.AppendDecision(ctx, d); err != nil {
				b.Fatalf("AppendDecision: %v", err)
			}
		}
		calls := 0
		if m.serial {
			for _, pool := range s.pools {
				res, err := s.ctrl.ReconcileOnce(ctx, pool)
				if err != nil {
					b.Fatalf("ReconcileOnce(%s): %v", pool, err)
				}
				calls += res.ADOCalls
			}
			return calls
		}
		for _, o := range s.ctrl.ReconcileAll(ctx) {
			if o.Err != nil {
				b.Fatalf("ReconcileAll: %s: %v", o.Result.Pool, o.Err)
			}
			calls += o.Result.ADOCalls
		}
		return calls
	})
	s.checkSteady(b)

	// The controller's own memory: what stays reachable through it after a cycle. Everything else
	// (simulator, store, recorded answers) is reachable from s either way.
	with := heapInUse()
	s.ctrl = nil
	without := heapInUse()
	b.ReportMetric(float64(with), "heap-inuse-B")
	b.ReportMetric(float64(max(with-without, 0)), "ctrl-retained-B")
}

// heapInUse is the heap in use after a full GC.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// fleetStack is benchStack for many pools: one simulated organization, one ADO client and one
// SQLite store shared by every pool, as in production, and one fake provider per pool (the fake
// lists by scanning all its instances, a cost of the test double that a real provider, which
// filters by tag server-side, does not put on the controller).
type fleetStack struct {
	benchADO
	ctrl  *controller.Controller
	provs controller.ProviderMap // kept here so that ctrl-retained-B counts none of the fakes' state
	pools []string
	shape fleetShape
}

func newFleetStack(b *testing.B, sh fleetShape) *fleetStack {
	b.Helper()
	s := &fleetStack{shape: sh}
	s.start(b)
	s.provs = controller.ProviderMap{}
	var cfgs []controller.PoolConfig
	perPool := sh.busy + sh.idle
	for i := range sh.pools {
		pool := fmt.Sprintf("fleet-%03d", i)
		poolID, err := s.org.AddPool(pool)
		if err != nil {
			b.Fatalf("AddPool: %v", err)
		}
		prov := fake.New()
		// The first busy+idle instances of each pool register at once; later ones stay starting.
		var launched atomic.Int64
		prov.OnLaunch = func(inst provider.Instance, _ provider.LaunchRequest) {
			if launched.Add(1) <= int64(perPool) {
				s.connect(b, pool, poolID, inst.AgentName)
			}
		}
		s.provs[pool] = prov
		s.pools = append(s.pools, pool)
		cfgs = append(cfgs, controller.PoolConfig{Name: pool, Provider: pool, Policy: scaler.Policy{
			Min: sh.idle, Max: perPool + sh.queued, IdleTimeout: benchLong, RegistrationTimeout: benchLong,
			OneJobPerAgent: true, Capabilities: map[string]string{"docker": "true"},
		}})
	}
	var names atomic.Int64
	s.ctrl = s.newController(b, s.provs, cfgs, func(pool string) string { return fmt.Sprintf("%s-%05d", pool, names.Add(1)) })
	for _, pool := range s.pools {
		s.queue(b, pool, sh.busy)
	}
	s.cycle(b) // launches busy+idle agents; they register and the busy ones take the jobs
	s.cycle(b) // records the registrations
	for _, pool := range s.pools {
		s.queue(b, pool, sh.queued)
	}
	s.cycle(b) // launches one per queued job; they stay starting
	s.cycle(b)
	s.checkSteady(b)
	return s
}

// cycle reconciles every pool once and returns the per-pool results.
func (s *fleetStack) cycle(b *testing.B) []controller.Result {
	b.Helper()
	out := make([]controller.Result, 0, len(s.pools))
	for _, pool := range s.pools {
		res, err := s.ctrl.ReconcileOnce(b.Context(), pool)
		if err != nil {
			b.Fatalf("setup ReconcileOnce(%s): %v", pool, err)
		}
		out = append(out, res)
	}
	return out
}

// checkSteady fails unless one more cycle sees every pool steady and planning nothing.
func (s *fleetStack) checkSteady(b *testing.B) {
	b.Helper()
	want := s.shape.benchShape
	var bad []string
	for _, res := range s.cycle(b) {
		if got := unsteady(res, want); got != "" {
			bad = append(bad, res.Pool+": "+got)
		}
	}
	if len(bad) > 0 {
		b.Fatalf("not steady (want busy %d, idle %d, queued %d, starting %d, empty plan in every pool):\n%s",
			want.busy, want.idle, want.queued, want.queued, strings.Join(bad, "\n"))
	}
}
