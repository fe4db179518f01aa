package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/checks"
	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/secret"
	"github.com/adofleet/adofleet/internal/store"
)

// checksCallbackInterval is the callbacker's round period when nothing nudges it.
const checksCallbackInterval = 5 * time.Second

// checksWiring is the checks endpoint's parts: opened before the controller (which reads the
// pending requests and reservations), mounted after it (the handler wakes it).
type checksWiring struct {
	reqs  *checks.StoreRequests
	cb    *checks.Callbacker
	auth  checks.Auth
	log   *slog.Logger
	fails sync.WaitGroup // checks being failed after a launch failure
}

// openChecks builds the callbacker over the check requests kept in st; nil when checks are off.
func openChecks(ctx context.Context, cfg *config.Config, secrets *secret.Registry, client checks.ADO, st store.Store, events notify.Publisher, reg prometheus.Registerer, log *slog.Logger) (*checksWiring, error) {
	c := cfg.Checks
	if !c.Enabled {
		return nil, nil
	}
	auth, err := checksAuth(ctx, c, secrets)
	if err != nil {
		return nil, err
	}
	reqs := checks.NewStoreRequests(st)
	cb, err := checks.NewCallbacker(checks.CallbackerOptions{
		Requests: reqs, Claims: st, ADO: client, Timeout: c.Timeout.D(), Events: events,
		Logger: log, Registerer: reg,
	})
	if err != nil {
		return nil, err
	}
	return &checksWiring{reqs: reqs, cb: cb, auth: auth, log: log}, nil
}

// checksAuth resolves the endpoint's credentials once, at start-up.
func checksAuth(ctx context.Context, c config.Checks, secrets *secret.Registry) (checks.Auth, error) {
	return resolveWebhookAuth(ctx, secrets, webhookAuthConfig{
		section: "checks", username: c.Username, passwordRef: c.Password, secretRef: c.SharedSecret,
		secretHeader: c.SecretHeader,
	})
}

// newChecksHandler is the POST /v1/checks/{pool} endpoint for cfg's pools, recording in reqs.
func newChecksHandler(cfg *config.Config, auth checks.Auth, reqs checks.Requests, wake checks.Waker, reg prometheus.Registerer, log *slog.Logger) (*checks.Handler, error) {
	names := make([]string, len(cfg.Pools))
	for i, p := range cfg.Pools {
		names[i] = p.Name
	}
	return checks.NewHandler(checks.Options{
		Auth: auth, Pool: checks.PoolSet(names...), Requests: reqs, Wake: wake,
		MaxBodyBytes: int64(cfg.Checks.MaxBodyBytes), Logger: log, Registerer: reg,
	})
}

// controllerOptions hands the controller the pending checks per pool and the reserved agents.
func (w *checksWiring) controllerOptions(o *controller.Options) {
	if w == nil {
		return
	}
	o.Demands = w.cb.PendingByPool
	o.Reserved = w.cb.Reserved
	o.OnLaunchFailed = w.launchFailed
}

// launchFailed fails the pool's waiting checks at once when a launch failed in a way no retry can
// fix (a bad template, image or setting: provider.ErrInvalidRequest), so the pipeline shows why
// instead of waiting for checks.timeout. Capacity and transient errors leave them waiting: the
// controller retries. It returns at once (the controller must not block on it).
func (w *checksWiring) launchFailed(pool string, err error) {
	if !errors.Is(err, provider.ErrInvalidRequest) {
		return
	}
	w.fails.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		pending, perr := w.reqs.Pending(ctx, pool)
		if perr != nil {
			w.log.Warn("fail waiting checks after a launch failure", "pool", pool, "err", perr)
			return
		}
		reason := fmt.Sprintf("adofleet cannot start agents for pool %s: %v", pool, err)
		for _, r := range pending {
			if _, ferr := w.cb.Fail(ctx, r.Key(), reason); ferr != nil {
				w.log.Warn("fail a waiting check after a launch failure", "pool", pool, "plan", r.Plan.PlanID, "err", ferr)
			}
		}
	})
}

// start returns the endpoint to mount at /v1/checks/; serve runs the callbacker (run) on the
// leader only.
func (w *checksWiring) start(ctx context.Context, cfg *config.Config, ctrl *controller.Controller, reg prometheus.Registerer, log *slog.Logger) ([]mount, error) {
	if w == nil {
		return nil, nil
	}
	if !cfg.Web.Enabled() {
		return nil, fmt.Errorf("checks.enabled: adofleet serve serves the checks endpoint on web.listen, which is %q; set web.listen (the Lambda checks function needs no listener)", config.ListenOff)
	}
	h, err := newChecksHandler(cfg, w.auth, w.reqs, func(pool string) { ctrl.Wake(pool); w.cb.Nudge() }, reg, log)
	if err != nil {
		return nil, err
	}
	return []mount{{pattern: "/v1/checks/", handler: h}}, nil
}

// run runs the callbacker's rounds until ctx ends, returning between rounds (a callback already
// claimed is still sent); nil when checks are off.
func (w *checksWiring) run(ctx context.Context) error {
	if w == nil {
		return nil
	}
	_ = w.cb.Run(ctx, checksCallbackInterval) // returns only ctx's error
	return nil
}

// checksRoundTimeout bounds one callbacker round run by the Lambda reconcile function.
const checksRoundTimeout = 30 * time.Second

// round runs one callbacker round and waits for the checks being failed after a launch failure
// (the Lambda reconcile function: serve runs rounds in a loop). Like the loop's, the round is
// not cut short when the invocation's context ends: a claimed callback is still posted.
func (w *checksWiring) round(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checksRoundTimeout)
	defer cancel()
	err := w.cb.RunOnce(ctx)
	w.fails.Wait()
	return err
}

// close waits for the checks being failed; the caller closes the store after (and after run has
// returned).
func (w *checksWiring) close() {
	if w == nil {
		return
	}
	w.fails.Wait()
}
