// Package kubelease elects the active adofleet replica with a coordination.k8s.io/v1 Lease,
// through client-go's leaderelection, for deployments inside a Kubernetes cluster.
//
// No store fence. The store backend hands its leader a fencing token that every store write
// carries, so a deposed leader's late writes are refused. A Lease has no such token: the guard is
// the Lease's holder check and timing, as for every Kubernetes controller. A leader that cannot
// renew within RenewDeadline has its lead context cancelled and stops acting; another replica
// takes the Lease only once it has seen no renewal for LeaseDuration (measured on its own clock,
// so clock skew between replicas does not matter), which leaves LeaseDuration-RenewDeadline for
// the old leader's in-flight calls to end. Pick the store backend where a stronger guarantee is
// needed (e.g. several clusters sharing one Postgres).
package kubelease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/adofleet/adofleet/internal/leader"
)

// Elector campaigns for one Lease. It is safe for concurrent use; Run is called once at a time.
type Elector struct {
	client    kubernetes.Interface
	namespace string
	opts      leader.Options
	log       *slog.Logger
	m         *leader.Metrics

	mu      sync.Mutex
	leading bool
}

var _ leader.Elector = (*Elector)(nil)

// New returns an Elector on the Lease opts.Name (default adofleet-controller) in namespace. opts
// take leader's defaults (15s lease, 10s renew deadline, 2s retry period). opts.Now is not used:
// client-go times the Lease on its own clock. It makes no call.
//
// In a Pod: cfg, _ := rest.InClusterConfig(); cs, _ := kubernetes.NewForConfig(cfg);
// e, err := kubelease.New(cs, namespace, opts), with namespace the Pod's own (the downward API, or
// /var/run/secrets/kubernetes.io/serviceaccount/namespace). The service account needs get,
// create and update on leases in that namespace.
func New(client kubernetes.Interface, namespace string, opts leader.Options) (leader.Elector, error) {
	if client == nil {
		return nil, errors.New("kubernetes lease election: nil client")
	}
	if namespace == "" {
		return nil, errors.New("kubernetes lease election: namespace is required")
	}
	opts, err := opts.WithDefaults()
	if err != nil {
		return nil, err
	}
	return &Elector{
		client: client, namespace: namespace, opts: opts,
		log: opts.Logger.With("component", "leader", "backend", "kubernetes", "lease", namespace+"/"+opts.Name, "identity", opts.Identity),
		m:   leader.NewMetrics(opts.Registerer, opts.Name),
	}, nil
}

// IsLeader reports whether this replica leads now.
func (e *Elector) IsLeader() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leading
}

// Run campaigns until ctx ends. Each won term runs lead with a context cancelled when the term
// ends; Run waits for lead to return before campaigning again. When ctx ends the Lease is released
// (ReleaseOnCancel), so a successor need not wait for it to expire.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context)) error {
	for ctx.Err() == nil {
		if err := e.term(ctx, lead); err != nil {
			return err
		}
	}
	return nil
}

// term campaigns once: until ctx ends, or until a term won here ends.
func (e *Elector) term(ctx context.Context, lead func(ctx context.Context)) error {
	lock := &wonLock{Interface: &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Name: e.opts.Name, Namespace: e.namespace},
		Client:     e.client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: e.opts.Identity},
	}}
	done := make(chan struct{})
	var le *leaderelection.LeaderElector
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		Name:            e.opts.Name,
		LeaseDuration:   e.opts.LeaseDuration,
		RenewDeadline:   e.opts.RenewDeadline,
		RetryPeriod:     e.opts.RetryPeriod,
		ReleaseOnCancel: true,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) {
				defer close(done)
				e.setLeading(lctx, true)
				lead(leader.WithTermCheck(lctx, func() error { return termCheck(le, e.opts) }))
			},
			OnStoppedLeading: func() {},
			OnNewLeader: func(id string) {
				e.log.Info("leader observed", "leader", id)
			},
		},
	})
	if err != nil {
		return fmt.Errorf("kubernetes lease election %s/%s: %w", e.namespace, e.opts.Name, err)
	}
	le.Run(ctx) // returns once ctx ends or a won term ends; the term's context is cancelled by then
	if lock.won() {
		e.setLeading(ctx, false)
		e.log.Info("leadership ended", "cancelled", ctx.Err() != nil)
		<-done // client-go starts lead in its own goroutine and does not wait for it
	}
	return nil
}

// termCheck is leader.CheckTerm for a term won here: over once the last renewal client-go
// observed is RenewDeadline old, as the store elector counts it (client-go's own timer cancels the
// term context then too, but after a pause of the whole process that timer may fire late).
func termCheck(le *leaderelection.LeaderElector, o leader.Options) error {
	if err := le.Check(o.RenewDeadline - o.LeaseDuration); err != nil {
		return fmt.Errorf("%w: %w", leader.ErrTermOver, err)
	}
	return nil
}

// setLeading records a change of leadership. A term whose context has already ended never
// records itself as leading: client-go may start lead after the term is over.
func (e *Elector) setLeading(ctx context.Context, leading bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if leading && ctx.Err() != nil || leading == e.leading {
		return
	}
	e.leading = leading
	e.m.SetLeader(leading)
	if leading {
		e.log.Info("became leader")
	}
}

// wonLock records whether a write of the Lease with this replica as holder succeeded: then
// client-go's acquire succeeded and it has started (or will start) the lead callback.
type wonLock struct {
	resourcelock.Interface
	mu  sync.Mutex
	got bool
}

func (l *wonLock) Create(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	err := l.Interface.Create(ctx, r)
	l.record(err, r)
	return err
}

func (l *wonLock) Update(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	err := l.Interface.Update(ctx, r)
	l.record(err, r)
	return err
}

func (l *wonLock) record(err error, r resourcelock.LeaderElectionRecord) {
	if err == nil && r.HolderIdentity == l.Identity() {
		l.mu.Lock()
		l.got = true
		l.mu.Unlock()
	}
}

func (l *wonLock) won() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.got
}
