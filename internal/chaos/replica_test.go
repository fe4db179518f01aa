package chaos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/checks"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/leader"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/store"
)

// High availability in the chaos world: two controllers (replicas) share the store, the cloud and
// ADO, and elect a leader through the store's lease (internal/leader NewStore), as serve does with
// controller.leaderElection. Only the leader reconciles and answers checks, under its term's
// context, which carries the store fence. Lease writes fail (faultinject leasefail), and now and
// then the leader pauses in the middle of a reconcile for longer than its lease.
//
// Every provider launch or terminate and every change to an ADO agent goes through a guard that
// checks it is made under the current lease: the fence its context carries must be the lease's
// token as the store holds it now. A guard also refuses a call whose context has ended, as a real
// transport and the cloud SDKs do (the in-process simulator and the fake provider do not look).

// Lease timing: a step is 15 s, so the leader renews a few times per step.
const (
	leaseName     = "chaos"
	leaseDuration = 45 * time.Second
	renewDeadline = 30 * time.Second
	retryPeriod   = 10 * time.Second
)

// errUnreachable is a paused replica's lease write in the default pause mode.
var errUnreachable = errors.New("store unreachable from this replica (paused)")

// sharedDeps are the faulty store, cloud and network every replica uses.
type sharedDeps struct {
	st   store.Store
	prov provider.Provider
	net  http.RoundTripper
}

// replica is one controller process.
type replica struct {
	id   string
	w    *world
	ctrl *controller.Controller
	cb   *checks.Callbacker
	el   leader.Elector

	mu      sync.Mutex
	leadCtx context.Context // the current term's context; nil between terms
	token   int64
	paused  bool
	gate    chan struct{} // while set, the provider List of a reconcile blocks on it (the pause)
	down    chan struct{} // while set, lease writes fail (or block on it in process mode)
}

func (w *world) newReplica(id string, d sharedDeps, pcs []controller.PoolConfig, logger *slog.Logger) *replica {
	r := &replica{id: id, w: w}
	logger = logger.With("replica", id)
	st := &replicaStore{Store: d.st, r: r}
	client, err := ado.New(ado.Options{OrgURL: orgURL, PAT: pat, Logger: logger,
		HTTPClient: &http.Client{Transport: &guardTransport{next: d.net, r: r}},
		Jitter:     func(time.Duration) time.Duration { return 0 }})
	if err != nil {
		w.t.Fatalf("%s: ado client: %v", id, err)
	}
	r.cb, err = checks.NewCallbacker(checks.CallbackerOptions{
		Requests: checks.NewStoreRequests(st), Claims: st, ADO: client, Logger: logger,
		Timeout: callbackerTimeout,
	})
	if err != nil {
		w.t.Fatalf("%s: callbacker: %v", id, err)
	}
	r.ctrl, err = controller.New(controller.Options{
		ControllerID: "chaos", OrgURL: orgURL, ADO: client,
		Providers: controller.ProviderMap{"fake": &guardProvider{next: d.prov, r: r}}, Store: st,
		Pools: pcs, AgentToken: func() string { return pat }, Logger: logger,
		NameFunc: func(pool string) string {
			w.names++
			return fmt.Sprintf("%s-%05d", pool, w.names)
		},
		Demands: r.cb.PendingByPool, Reserved: r.cb.Reserved,
		JobWaitThreshold: -1, PoolAtMaxThreshold: -1,
	})
	if err != nil {
		w.t.Fatalf("%s: controller: %v", id, err)
	}
	r.el = leader.NewStore(st, leader.Options{Name: leaseName, Identity: id, LeaseDuration: leaseDuration,
		RenewDeadline: renewDeadline, RetryPeriod: retryPeriod, Logger: logger})
	return r
}

// startElection runs both electors until the test ends and waits for the first leader.
func (w *world) startElection() {
	ctx, cancel := context.WithCancel(w.ctx)
	var wg sync.WaitGroup
	for _, r := range w.replicas {
		wg.Go(func() {
			if err := r.el.Run(ctx, r.lead); err != nil {
				w.violate("%s: elector: %v", r.id, err)
			}
		})
	}
	w.t.Cleanup(func() { cancel(); wg.Wait() })
	for w.leader() == nil {
		time.Sleep(time.Second)
	}
	w.electing = true
}

// lead is a term: the world's cycles use its context until it ends.
func (r *replica) lead(ctx context.Context) {
	f, _ := store.FenceFrom(ctx)
	r.mu.Lock()
	r.leadCtx, r.token = ctx, f.Token
	r.mu.Unlock()
	r.w.logf("%s leads with token %d", r.id, f.Token)
	r.w.leases.terms.Add(1)
	<-ctx.Done()
	r.mu.Lock()
	r.leadCtx = nil
	r.mu.Unlock()
}

// ctx is the current term's context, or an ended one between terms.
func (r *replica) ctx() context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.leadCtx == nil {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}
	return r.leadCtx
}

// leading: r has a live term and is not paused.
func (r *replica) leading() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.leadCtx != nil && r.leadCtx.Err() == nil && !r.paused
}

// leader returns the replica that leads now, the newest term first; nil if none does.
func (w *world) leader() *replica {
	var best *replica
	for _, r := range w.replicas {
		if r.leading() && (best == nil || r.token > best.token) {
			best = r
		}
	}
	return best
}

// currentLease reads the lease as the store holds it now.
func (w *world) currentLease() (token int64, holder string) {
	err := w.db.QueryRowContext(context.Background(), `SELECT token, holder FROM leases WHERE name = ?`, leaseName).Scan(&token, &holder)
	if err != nil {
		w.violate("read the lease: %v", err)
	}
	return token, holder
}

// checkFenced: an action of r is made under the current lease.
func (w *world) checkFenced(r *replica, ctx context.Context, what string) {
	if !w.electing {
		return
	}
	f, ok := store.FenceFrom(ctx)
	if !ok {
		w.violate("%s: %s made outside a term (no fence)", r.id, what)
		return
	}
	token, holder := w.currentLease()
	switch {
	case f.Token == token:
	case w.procMode:
		// ADO and the cloud take no fencing token: a process stopped past its lease acts once more
		// when it resumes, before its renewal notices. Counted and reported, not an invariant.
		w.leases.stale.Add(1)
		w.logf("stale action: %s: %s under lease token %d, but %s holds token %d", r.id, what, f.Token, holder, token)
	default:
		w.violate("two controllers act: %s: %s under lease token %d, but %s holds token %d", r.id, what, f.Token, holder, token)
	}
}

// guardTransport is a replica's network: a call whose context ended is not sent, and a change to
// an agent must be made under the current lease.
type guardTransport struct {
	next http.RoundTripper
	r    *replica
}

func (g *guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	if req.Method != http.MethodGet && strings.Contains(req.URL.Path, "/distributedtask/pools/") {
		g.r.w.checkFenced(g.r, req.Context(), req.Method+" "+req.URL.Path)
	}
	return g.next.RoundTrip(req)
}

// guardProvider is a replica's cloud API: launches and terminates must be made under the current
// lease, calls with an ended context fail, and a pause holds a reconcile in List.
type guardProvider struct {
	next provider.Provider
	r    *replica
}

func (g *guardProvider) Launch(ctx context.Context, req provider.LaunchRequest) ([]provider.Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g.r.w.checkFenced(g.r, ctx, fmt.Sprintf("launch of %d agents in pool %s", len(req.Agents), req.Pool))
	return g.next.Launch(ctx, req)
}

func (g *guardProvider) Terminate(ctx context.Context, ids []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	g.r.w.checkFenced(g.r, ctx, fmt.Sprintf("terminate of %v", ids))
	return g.next.Terminate(ctx, ids)
}

func (g *guardProvider) List(ctx context.Context, pool string) ([]provider.Instance, error) {
	g.r.mu.Lock()
	gate := g.r.gate
	g.r.mu.Unlock()
	if gate != nil {
		<-gate // paused: the goroutine is stuck past its lease
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return g.next.List(ctx, pool)
}

// replicaStore is a replica's connection to the shared store: lease writes fail or hang while it
// is paused, and a write the store accepts under an old fence is a broken invariant.
type replicaStore struct {
	store.Store
	r *replica
}

// leaseDown waits out a paused replica's lease write: in the default mode it fails at once (the
// renewals fail until the renew deadline ends the term); in process mode it blocks until the
// pause ends, as the renewal goroutine of a stopped process does.
func (s *replicaStore) leaseDown() error {
	s.r.mu.Lock()
	down := s.r.down
	s.r.mu.Unlock()
	switch {
	case down == nil:
		return nil
	case s.r.w.procMode:
		<-down
		return nil
	}
	return errUnreachable
}

func (s *replicaStore) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (store.Lease, error) {
	if err := s.leaseDown(); err != nil {
		return store.Lease{}, err
	}
	return s.Store.AcquireLease(ctx, name, holder, ttl, now)
}

func (s *replicaStore) ReleaseLease(ctx context.Context, l store.Lease) error {
	if err := s.leaseDown(); err != nil {
		return err
	}
	return s.Store.ReleaseLease(ctx, l)
}

// fenced runs a write and checks the store's fencing: a write under a fence older than the
// lease's token before the write must be refused with store.ErrFenced.
func (s *replicaStore) fenced(ctx context.Context, what string, write func() error) error {
	f, ok := store.FenceFrom(ctx)
	var before int64
	if ok {
		before, _ = s.r.w.currentLease()
	}
	err := write()
	switch {
	case errors.Is(err, store.ErrFenced):
		s.r.w.leases.fenced.Add(1)
	case err == nil && ok && f.Token < before:
		s.r.w.violate("%s: %s accepted under lease token %d, older than the lease's %d", s.r.id, what, f.Token, before)
	}
	return err
}

func (s *replicaStore) CreateAgent(ctx context.Context, rec store.AgentRecord) error {
	return s.fenced(ctx, "create agent record "+rec.Name, func() error { return s.Store.CreateAgent(ctx, rec) })
}

func (s *replicaStore) UpdateAgent(ctx context.Context, rec store.AgentRecord) (out store.AgentRecord, err error) {
	err = s.fenced(ctx, "update agent record "+rec.Name, func() (err error) {
		out, err = s.Store.UpdateAgent(ctx, rec)
		return err
	})
	return out, err
}

func (s *replicaStore) ClaimCallback(ctx context.Context, key store.CallbackKey, result string, at time.Time) (claimed bool, err error) {
	err = s.fenced(ctx, "claim callback of plan "+key.PlanID, func() (err error) {
		claimed, err = s.Store.ClaimCallback(ctx, key, result, at)
		return err
	})
	return claimed, err
}
