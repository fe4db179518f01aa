// Package notify delivers events to people: Slack incoming webhooks (Block Kit), Microsoft Teams
// workflow webhooks (Adaptive Cards) and generic JSON webhooks signed with HMAC-SHA256.
//
// Publish renders an event for every route that selects it and writes the result to the store's
// outbox; Run delivers from the outbox with retries, backoff, a per-route rate limit and
// deduplication, so nothing is lost across a restart and nobody is spammed. Webhook URLs are
// secret references resolved at send time; they never reach a log, an error or a metric.
package notify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/adofleet/adofleet/internal/secret"
	"github.com/adofleet/adofleet/internal/store"
)

// Secrets resolves secret references; *secret.Registry is one.
type Secrets interface {
	Resolve(ctx context.Context, ref string) (secret.Value, error)
}

// Defaults of Options' zero fields.
const (
	DefaultSendTimeout  = 10 * time.Second
	DefaultPollInterval = 2 * time.Second
	DefaultMinBackoff   = 5 * time.Second
	DefaultMaxBackoff   = 15 * time.Minute
	DefaultBatchSize    = 20
	DefaultConcurrency  = 4
	DefaultRetention    = 7 * 24 * time.Hour
	depthInterval       = 30 * time.Second
)

// Options configure a Notifier. Routes, Outbox and Secrets are required.
type Options struct {
	Routes  []Route
	Outbox  store.Outbox
	Secrets Secrets
	// HTTPClient sends the webhooks (default: a client with no timeout of its own; each send is
	// bounded by SendTimeout).
	HTTPClient *http.Client
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Now is the clock (default time.Now); Rand returns jitter in [0, 1) (default math/rand).
	Now  func() time.Time
	Rand func() float64
	// SendTimeout bounds one webhook request.
	SendTimeout time.Duration
	// PollInterval is how often Run looks for due messages when no Publish wakes it.
	PollInterval time.Duration
	// MinBackoff and MaxBackoff bound the exponential backoff between attempts; a Retry-After
	// longer than MaxBackoff is still honoured.
	MinBackoff, MaxBackoff time.Duration
	// BatchSize is how many due messages one round takes; Concurrency how many it sends at once.
	BatchSize, Concurrency int
	// Retention is how long delivered and dead messages are kept (their ExpiresAt).
	Retention time.Duration
	// SecretTTL is how long a resolved webhook URL is reused before it is resolved again.
	SecretTTL time.Duration
}

// Notifier implements Publisher over a durable outbox.
type Notifier struct {
	opts    Options
	log     *slog.Logger
	m       *metrics
	routes  []*route
	byName  map[string]*route
	wake    chan struct{}
	lastDep time.Time // last outbox depth refresh
}

// route is a Route with its compiled templates, resolved-secret caches and rate limiter.
type route struct {
	Route
	tmpl    compiled
	url     *secret.Refresher
	signing *secret.Refresher // nil unless KindWebhook
	limit   *rate.Limiter
}

var _ Publisher = (*Notifier)(nil)

// New checks the routes and returns a Notifier. Nothing is resolved or sent until Run.
func New(opts Options) (*Notifier, error) {
	if opts.Outbox == nil {
		return nil, errors.New("notify: Outbox is required")
	}
	if opts.Secrets == nil {
		return nil, errors.New("notify: Secrets is required")
	}
	setDefaults(&opts)
	n := &Notifier{
		opts: opts, log: opts.Logger.With("component", "notify"), m: newMetrics(opts.Registerer),
		byName: map[string]*route{}, wake: make(chan struct{}, 1),
	}
	for i, r := range opts.Routes {
		r.setDefaults()
		if err := r.Check(); err != nil {
			return nil, fmt.Errorf("notify: routes[%d]: %w", i, err)
		}
		if _, dup := n.byName[r.Name]; dup {
			return nil, fmt.Errorf("notify: routes[%d]: duplicate route name %q", i, r.Name)
		}
		tmpl, err := compileRoute(r)
		if err != nil {
			return nil, fmt.Errorf("notify: %w", err)
		}
		ropts := secret.RefreshOptions{TTL: opts.SecretTTL, Now: opts.Now, Log: opts.Logger}
		rt := &route{
			Route: r, tmpl: tmpl,
			url:   secret.NewRefresher(opts.Secrets, r.URL, ropts),
			limit: rate.NewLimiter(rate.Limit(float64(r.RatePerMinute)/60), r.RatePerMinute),
		}
		if r.Kind == KindWebhook {
			rt.signing = secret.NewRefresher(opts.Secrets, r.SigningSecret, ropts)
		}
		n.routes = append(n.routes, rt)
		n.byName[r.Name] = rt
	}
	return n, nil
}

func setDefaults(o *Options) {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = mrand.Float64
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.SendTimeout, DefaultSendTimeout)
	def(&o.PollInterval, DefaultPollInterval)
	def(&o.MinBackoff, DefaultMinBackoff)
	def(&o.MaxBackoff, DefaultMaxBackoff)
	def(&o.Retention, DefaultRetention)
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
}

// Publish renders e for each route that selects it and enqueues the result; it sends nothing.
// An identical alert (same dedup key) enqueued on a route within its dedup window is dropped.
func (n *Notifier) Publish(ctx context.Context, e Event) error {
	now := n.opts.Now()
	if e.Time.IsZero() {
		e.Time = now
	}
	if e.Severity == "" {
		e.Severity = SeverityInfo
	}
	key := dedupKey(e)
	var errs []error
	queued := false
	for _, r := range n.routes {
		if !r.Matches(e) {
			continue
		}
		ok, err := n.enqueue(ctx, r, e, key, now)
		if err != nil {
			n.m.enqueued.WithLabelValues(r.Name, "error").Inc()
			errs = append(errs, fmt.Errorf("notify %s of %s: %w", r.Name, e.Type, err))
			continue
		}
		if !ok {
			n.m.enqueued.WithLabelValues(r.Name, "deduplicated").Inc()
			n.log.Debug("identical alert within the dedup window, dropped", "route", r.Name, "type", e.Type, "pool", e.Pool)
			continue
		}
		n.m.enqueued.WithLabelValues(r.Name, "enqueued").Inc()
		queued = true
	}
	if queued {
		select {
		case n.wake <- struct{}{}:
		default:
		}
	}
	return errors.Join(errs...)
}

func (n *Notifier) enqueue(ctx context.Context, r *route, e Event, key string, now time.Time) (bool, error) {
	msg, terrs := r.tmpl.render(e)
	for _, err := range terrs {
		n.log.Warn("message template failed; using the default", "route", r.Name, "type", e.Type, "err", err)
	}
	body, err := r.body(msg)
	if err != nil {
		return false, err
	}
	id, err := newID()
	if err != nil {
		return false, err
	}
	return n.opts.Outbox.EnqueueMessage(ctx, store.OutboxMessage{
		ID: id, Route: r.Name, DedupKey: key, Payload: body, State: store.OutboxPending,
		NextAttempt: now, CreatedAt: now, UpdatedAt: now,
	}, now.Add(-r.DedupWindow))
}

// body renders the message in the route's format.
func (r *route) body(m Message) ([]byte, error) {
	switch r.Kind {
	case KindSlack:
		return slackBody(m)
	case KindTeams:
		return teamsBody(m)
	default:
		return webhookBody(m)
	}
}

// dedupKey is the event's DedupKey, else its type, pool and summary, hashed to a fixed size.
func dedupKey(e Event) string {
	k := e.DedupKey
	if k == "" {
		k = string(e.Type) + "\x00" + e.Pool + "\x00" + e.Summary
	}
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:16])
}

func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("message id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
