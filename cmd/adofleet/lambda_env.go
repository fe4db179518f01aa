package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/notify"
)

// lambdaEnv is what an execution environment builds once and every handler in it shares: the
// config, the logger, the metrics registry and the base (AWS config, secrets, store and, once a
// handler needs it, the ADO client). The store lives as long as the environment; it is not
// closed between invocations.
type lambdaEnv struct {
	cfg  *config.Config
	log  *slog.Logger
	reg  *prometheus.Registry
	base *base
	opts baseOptions // what base was opened with (connectADO uses them too)
	// events is what every producer publishes to, as in serve: it writes to the outbox through
	// notifier (nil with no notify route), which each invocation delivers from before it returns
	// (lambda_notify.go).
	events   *eventSink
	notifier *notify.Notifier
}

// lambdaEnvCache builds the lambdaEnv on the first invocation; a failed build is retried by the
// next one.
type lambdaEnvCache struct {
	mu  sync.Mutex
	env *lambdaEnv
}

var lambdaBase = baseOptions{uaSuffix: " (lambda)"}

// env returns the execution environment's lambdaEnv. check, if not nil, vets the config before
// anything is opened, so a handler's config error is reported as such (not as a secret or store
// error). needADO also resolves the organization's credentials and builds the ADO client, if an
// earlier handler did not (the checks function needs only the store).
func (h *lambdaHandler) env(ctx context.Context, needADO bool, check func(*config.Config) error) (*lambdaEnv, error) {
	c := &h.envs
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.env == nil {
		cfg, err := h.loadConfig()
		if err != nil {
			return nil, fmt.Errorf("lambda: load config: %w", err)
		}
		if check != nil {
			if err := check(cfg); err != nil {
				return nil, err
			}
		}
		// JSON lines: CloudWatch Logs Insights parses them.
		log, err := newLogger(h.logOut, cfg.Controller.LogLevel, true)
		if err != nil {
			return nil, fmt.Errorf("lambda: %w", err)
		}
		reg := newRegistry()
		events := newEventSink(log)
		opts := lambdaBase
		opts.storeOnly = !needADO
		opts.onThrottle = events.adoThrottled
		b, err := openBase(ctx, cfg, opts, reg, log)
		if err != nil {
			return nil, fmt.Errorf("lambda: %w", err)
		}
		n, err := newNotifier(cfg, b.store, b.secrets, reg, log, h.notifyTune...)
		if err != nil {
			_ = b.store.Close()
			return nil, fmt.Errorf("lambda: %w", err)
		}
		if n != nil {
			events.set(n)
			if needADO {
				// Not in the checks function, which never delivers: its answer must not wait.
				checkNotifySecrets(ctx, cfg.NotifyRoutes(), b.secrets, log)
			}
		}
		c.env = &lambdaEnv{cfg: cfg, log: log, reg: reg, base: b, opts: opts, events: events, notifier: n}
		return c.env, nil
	}
	if check != nil {
		if err := check(c.env.cfg); err != nil {
			return nil, err
		}
	}
	if needADO && c.env.base.client == nil {
		if err := c.env.base.connectADO(ctx, c.env.cfg, c.env.opts, c.env.reg, c.env.log); err != nil {
			return nil, fmt.Errorf("lambda: %w", err)
		}
	}
	return c.env, nil
}
