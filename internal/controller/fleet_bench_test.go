package controller_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/fake"
	"github.com/adofleet/adofleet/internal/scaler"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

// fleetShape is issue 7's "100 pools with 10,000 agents": every pool in the steady state of
// benchShape (busy agents holding jobs, idle agents Min keeps, queued jobs with an instance
// starting for each), the same shape in each pool.
type fleetShape struct {
	pools int
	benchShape
}

func (f fleetShape) agents() int { return f.pools * (f.busy + f.idle) }

// BenchmarkReconcileFleet is one reconcile cycle of every pool of a fleet: ReconcileOnce for each
// pool in turn, so an op is what Run's per-pool loops do between them in one resync period. The
// plan is empty in every pool; see BenchmarkReconcileOnce for what that measures and for the two
// ado modes.
//
// Besides time and allocations it reports per op the ADO calls, the bytes of ADO answers, the
// process CPU, and, after the loop, the controller's retained heap: the heap in use after a cycle
// (and a GC) with the controller, minus the same once the controller is unreachable.
func BenchmarkReconcileFleet(b *testing.B) {
	sh := fleetShape{pools: 100, benchShape: benchShape{busy: 100, queued: 10}}
	for _, mode := range []string{"sim", "replay"} {
		name := fmt.Sprintf("pools=%d/agents=%d/ado=%s", sh.pools, sh.agents(), mode)
		b.Run(name, func(b *testing.B) { benchFleet(b, sh, mode == "replay") })
	}
}

func benchFleet(b *testing.B, sh fleetShape, replay bool) {
	s := newFleetStack(b, sh)
	s.replay.Store(replay)
	ctx := b.Context()
	s.cycle(b) // records the answers for replay
	s.bytes.Store(0)
	calls := 0
	cpu0, cpuOK := processCPU()
	b.ReportAllocs()
	for b.Loop() {
		for _, pool := range s.pools {
			res, err := s.ctrl.ReconcileOnce(ctx, pool)
			if err != nil {
				b.Fatalf("ReconcileOnce(%s): %v", pool, err)
			}
			calls += res.ADOCalls
		}
	}
	if cpu1, ok := processCPU(); ok && cpuOK {
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
	}
	b.ReportMetric(float64(calls)/float64(b.N), "ado-calls/op")
	b.ReportMetric(float64(s.bytes.Load())/float64(b.N), "ado-resp-bytes/op")
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
	sim      *adosim.Server
	org      *adosim.Org
	url      string
	ctrl     *controller.Controller
	provs    controller.ProviderMap // kept here so that ctrl-retained-B counts none of the fakes' state
	pools    []string
	shape    fleetShape
	bytes    atomic.Int64
	replay   atomic.Bool
	recorded sync.Map // URL -> []byte
}

func (s *fleetStack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	serveRecorded(w, r, s.sim, &s.replay, &s.recorded)
}

// serveRecorded serves r from the simulator or, with replay set, each GET from the first answer
// the simulator gave to its URL.
func serveRecorded(w http.ResponseWriter, r *http.Request, sim http.Handler, replay *atomic.Bool, recorded *sync.Map) {
	if !replay.Load() || r.Method != http.MethodGet {
		sim.ServeHTTP(w, r)
		return
	}
	body, ok := recorded.Load(r.URL.String())
	if !ok {
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			http.Error(w, rec.Body.String(), rec.Code)
			return
		}
		body, _ = recorded.LoadOrStore(r.URL.String(), rec.Body.Bytes())
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8; api-version=7.1")
	_, _ = w.Write(body.([]byte))
}

func newFleetStack(b *testing.B, sh fleetShape) *fleetStack {
	b.Helper()
	ctx := b.Context()
	s := &fleetStack{shape: sh}
	s.org = adosim.NewOrg(adosim.OrgOptions{Seed: 1, SessionTimeout: benchLong, LockDuration: benchLong})
	s.sim = adosim.NewServer(s.org, adosim.ServerOptions{PAT: benchPAT})
	srv := httptest.NewServer(s)
	b.Cleanup(srv.Close)
	s.url = srv.URL + "/" + s.org.Name()
	client, err := ado.New(ado.Options{OrgURL: s.url, PAT: benchPAT, Timeout: time.Minute,
		HTTPClient: &http.Client{Transport: countingTransport{next: http.DefaultTransport, n: &s.bytes}}})
	if err != nil {
		b.Fatalf("ado.New: %v", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "adofleet.db"), sqlite.Options{})
	if err != nil {
		b.Fatalf("sqlite.Open: %v", err)
	}
	b.Cleanup(func() { _ = st.Close() })

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
				connectAgent(b, s.sim, s.org, s.url, pool, poolID, inst.AgentName)
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
	s.ctrl, err = controller.New(controller.Options{
		ControllerID: "bench",
		OrgURL:       s.url,
		ADO:          client,
		Providers:    s.provs,
		Store:        st,
		Pools:        cfgs,
		AgentToken:   func() string { return benchPAT },
		Logger:       slog.New(slog.DiscardHandler),
		NameFunc:     func(pool string) string { return fmt.Sprintf("%s-%05d", pool, names.Add(1)) },
	})
	if err != nil {
		b.Fatalf("controller.New: %v", err)
	}
	if err := s.ctrl.EnsurePlaceholders(ctx); err != nil {
		b.Fatalf("EnsurePlaceholders: %v", err)
	}
	for _, pool := range s.pools {
		queueJobs(b, s.org, pool, sh.busy)
	}
	s.cycle(b) // launches busy+idle agents; they register and the busy ones take the jobs
	s.cycle(b) // records the registrations
	for _, pool := range s.pools {
		queueJobs(b, s.org, pool, sh.queued)
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
		got := res.Counts
		if got.Agents.Busy != want.busy || got.Agents.Idle != want.idle || got.QueuedJobs != want.queued ||
			got.Agents.Starting != want.queued || !res.Plan.Empty() || res.Launched != 0 {
			bad = append(bad, fmt.Sprintf("%s: busy %d, idle %d, queued %d, starting %d, plan %+v, launched %d",
				res.Pool, got.Agents.Busy, got.Agents.Idle, got.QueuedJobs, got.Agents.Starting, res.Plan, res.Launched))
		}
	}
	if len(bad) > 0 {
		b.Fatalf("not steady (want busy %d, idle %d, queued %d, starting %d, empty plan in every pool):\n%s",
			want.busy, want.idle, want.queued, want.queued, strings.Join(bad, "\n"))
	}
}

func queueJobs(b *testing.B, org *adosim.Org, pool string, n int) {
	b.Helper()
	for range n {
		if _, err := org.QueueJob(pool, adosim.JobSpec{Demands: []string{"docker"}, Duration: benchLong}); err != nil {
			b.Fatalf("QueueJob(%s): %v", pool, err)
		}
	}
}

// connectAgent registers an agent and opens its session through the simulator's agent protocol
// (in-process: this is setup, not what is measured).
func connectAgent(b *testing.B, sim http.Handler, org *adosim.Org, orgURL, pool string, poolID int, name string) {
	id, err := org.AddAgent(pool, adosim.AgentSpec{Name: name, SystemCapabilities: map[string]string{"docker": "/usr/bin/docker"}})
	if err != nil {
		b.Errorf("AddAgent %s: %v", name, err)
		return
	}
	body := fmt.Sprintf(`{"ownerName":"bench","agent":{"id":%d}}`, id)
	req := httptest.NewRequest(http.MethodPost,
		fmt.Sprintf("%s/_apis/distributedtask/pools/%d/sessions?api-version=7.1", orgURL, poolID), strings.NewReader(body))
	req.SetBasicAuth("", benchPAT)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	sim.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Errorf("create session for %s: status %d: %s", name, rec.Code, rec.Body)
	}
}
