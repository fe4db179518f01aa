// Package servicehooks serves POST /v1/hooks/ado: Azure DevOps service-hook deliveries (a "Web
// Hooks" subscription) turned into notifications. Completed runs become run.completed events with
// the pipeline, its URL, result, commit, branch, requester, duration, project and the AWS account
// and region the agents ran in; failed stages and jobs become run.stage_failed and run.job_failed;
// a job waiting for an agent wakes the controller. Other event types are acknowledged and ignored.
package servicehooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/webhookauth"
)

// Path is where the endpoint is served.
const Path = "/v1/hooks/ado"

// Defaults for Options.
const (
	DefaultSecretHeader   = webhookauth.DefaultSecretHeader
	DefaultMaxBodyBytes   = 512 << 10 // a run event with its repositories and messages is a few KiB
	DefaultPublishTimeout = 2 * time.Second
)

// Auth is how ADO proves the delivery is its own: the subscription's basic credentials, or a
// shared secret it sends in a header (the subscription's "HTTP headers" input). At least one must
// be configured; a delivery passes if it satisfies either.
type Auth = webhookauth.Auth

// Options configure the endpoint.
type Options struct {
	Auth Auth
	// Events receives the notifications (required). Publish writes to the outbox.
	Events notify.Publisher
	// Account and Region are the AWS account and region the agents run in, added to every
	// notification ("" when unknown or not on AWS).
	Account string
	Region  string
	// Wake, if set, is called when a job waits for an agent. pool is "" when the event does not
	// name one (ADO's job event does not): wake every pool. It must not block.
	Wake func(pool string)
	// MaxBodyBytes bounds the body (default 512 KiB); a larger one answers 413.
	MaxBodyBytes int64
	// PublishTimeout bounds the outbox write (default 2s); ADO gives a delivery about 20s.
	PublishTimeout time.Duration
	Now            func() time.Time
	Logger         *slog.Logger
	Registerer     prometheus.Registerer
}

// Handler serves POST /v1/hooks/ado.
type Handler struct {
	opts    Options
	auth    *webhookauth.Verifier
	mux     *http.ServeMux
	log     *slog.Logger
	metrics *metrics
}

// NewHandler validates opts and returns the endpoint.
func NewHandler(opts Options) (*Handler, error) {
	auth, err := webhookauth.New(opts.Auth, "adofleet service hooks")
	if err != nil {
		return nil, fmt.Errorf("servicehooks: options: %w", err)
	}
	opts.Auth = Auth{} // the verifier keeps only hashes of the credentials
	if opts.Events == nil {
		return nil, errors.New("servicehooks: options: Events is required")
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.PublishTimeout <= 0 {
		opts.PublishTimeout = DefaultPublishTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("servicehooks: %w", err)
	}
	h := &Handler{
		opts: opts, auth: auth, mux: http.NewServeMux(),
		log: opts.Logger.With("component", "servicehooks"), metrics: m,
	}
	h.mux.HandleFunc("POST "+Path, h.serveHook)
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// answer is the JSON reply; ADO shows it in the subscription's history.
type answer struct {
	Status    string      `json:"status"`
	Message   string      `json:"message,omitempty"`
	EventType string      `json:"eventType,omitempty"`
	Published int         `json:"published,omitempty"`
	Error     *fieldError `json:"error,omitempty"`
}

func (h *Handler) reply(w http.ResponseWriter, code int, event, outcome string, a answer) {
	h.metrics.requests.WithLabelValues(eventLabel(event), outcome).Inc()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(a)
}

func (h *Handler) serveHook(w http.ResponseWriter, r *http.Request) {
	if !h.auth.Authorized(r) {
		h.auth.Challenge(w)
		h.reply(w, http.StatusUnauthorized, "", "unauthorized", answer{Status: "error", Message: "missing or bad credentials"})
		return
	}
	body, berr := webhookauth.ReadBody(w, r, h.opts.MaxBodyBytes)
	if berr != nil {
		h.reply(w, berr.Status, "", berr.Outcome, answer{Status: "error", Message: berr.Error()})
		return
	}
	env, err := parseEnvelope(body)
	if err == nil {
		var d decision
		if d, err = h.interpret(env); err == nil {
			h.act(w, r.Context(), env, d)
			return
		}
	}
	var fe *fieldError
	if !errors.As(err, &fe) {
		fe = &fieldError{Field: "body", Message: err.Error()}
	}
	h.log.Warn("malformed service hook delivery", "event", env.EventType, "id", env.ID, "field", fe.Field, "err", fe.Message)
	h.reply(w, http.StatusBadRequest, env.EventType, "bad_request", answer{Status: "error", EventType: env.EventType,
		Message: "malformed service hook event: " + fe.Error(), Error: fe})
}

// act publishes the decision's events, wakes the pools, and answers.
func (h *Handler) act(w http.ResponseWriter, ctx context.Context, env envelope, d decision) {
	if d.wake && h.opts.Wake != nil {
		h.opts.Wake("")
	}
	if len(d.events) == 0 {
		h.log.Debug("service hook event ignored", "event", env.EventType, "id", env.ID, "why", d.ignored)
		h.reply(w, http.StatusAccepted, env.EventType, "ignored", answer{Status: "ignored", EventType: env.EventType, Message: d.ignored})
		return
	}
	pctx, cancel := context.WithTimeout(ctx, h.opts.PublishTimeout)
	defer cancel()
	for i, e := range d.events {
		if err := h.opts.Events.Publish(pctx, e); err != nil {
			h.log.Error("publishing a service hook event failed", "event", env.EventType, "id", env.ID, "err", err)
			// ADO retries a delivery that fails; the dedup key keeps a retried one from doubling.
			h.reply(w, http.StatusServiceUnavailable, env.EventType, "publish_error", answer{Status: "error", EventType: env.EventType,
				Message: "could not record the notification; retry later", Published: i})
			return
		}
	}
	h.log.Info("service hook event published", "event", env.EventType, "id", env.ID, "type", d.events[0].Type,
		"pipeline", d.events[0].Fields["pipeline"], "result", d.events[0].Fields["result"])
	h.reply(w, http.StatusOK, env.EventType, "published", answer{Status: "published", EventType: env.EventType, Published: len(d.events)})
}
