package checks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/webhookauth"
)

// Defaults for Options.
const (
	DefaultSecretHeader = webhookauth.DefaultSecretHeader
	DefaultMaxBodyBytes = 64 << 10
	DefaultPutTimeout   = 800 * time.Millisecond // ADO waits a few seconds for the call's answer
)

// Auth is how a caller proves it is the check: the Generic service connection's basic
// credentials, or a shared secret in SecretHeader (default X-Adofleet-Secret) for a check
// configured with the header instead. At least one of the two must be configured; a call passes
// if it satisfies either.
type Auth = webhookauth.Auth

// Options configure the check endpoint.
type Options struct {
	Auth Auth
	// Pool resolves the {pool} of the URL to the configured pool's name; ok false answers 404.
	// PoolSet builds one from a list.
	Pool     func(name string) (canonical string, ok bool)
	Requests Requests
	Wake     Waker // may be nil
	// MaxBodyBytes bounds the request body (default 64 KiB); a larger body answers 413.
	MaxBodyBytes int64
	// PutTimeout bounds the durable write, so the call answers promptly (default 800ms).
	PutTimeout time.Duration
	Now        func() time.Time
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// PoolSet resolves pool names case-insensitively, as ADO compares them.
func PoolSet(names ...string) func(string) (string, bool) {
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = n
	}
	return func(name string) (string, bool) {
		n, ok := m[strings.ToLower(name)]
		return n, ok
	}
}

// Handler serves POST /v1/checks/{pool}.
type Handler struct {
	opts    Options
	auth    *webhookauth.Verifier
	mux     *http.ServeMux
	log     *slog.Logger
	metrics *metrics
}

// NewHandler validates opts and returns the check endpoint.
func NewHandler(opts Options) (*Handler, error) {
	auth, err := webhookauth.New(opts.Auth, "adofleet checks")
	if err != nil {
		return nil, fmt.Errorf("checks: options: %w", err)
	}
	opts.Auth = Auth{} // the verifier keeps only hashes of the credentials
	if opts.Pool == nil || opts.Requests == nil {
		return nil, errors.New("checks: options: Pool and Requests are required")
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.PutTimeout <= 0 {
		opts.PutTimeout = DefaultPutTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("checks: %w", err)
	}
	h := &Handler{
		opts: opts, auth: auth, mux: http.NewServeMux(),
		log: opts.Logger.With("component", "checks"), metrics: m,
	}
	h.mux.HandleFunc("POST /v1/checks/{pool}", h.serveCheck)
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

type answer struct {
	Status  string       `json:"status"`
	Message string       `json:"message,omitempty"`
	Pool    string       `json:"pool,omitempty"`
	Errors  *fieldErrors `json:"errors,omitempty"`
}

func (h *Handler) reply(w http.ResponseWriter, code int, pool, outcome string, a answer) {
	h.metrics.requests.WithLabelValues(pool, outcome).Inc()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(a)
}

func (h *Handler) serveCheck(w http.ResponseWriter, r *http.Request) {
	// Authenticate first, so an unauthenticated caller learns nothing, not even which pools exist.
	if !h.auth.Authorized(r) {
		h.auth.Challenge(w)
		h.reply(w, http.StatusUnauthorized, "", "unauthorized", answer{Status: "error", Message: "missing or bad credentials"})
		return
	}
	pool, ok := h.opts.Pool(r.PathValue("pool"))
	if !ok {
		h.reply(w, http.StatusNotFound, "", "unknown_pool", answer{Status: "error", Message: fmt.Sprintf("pool %q is not managed by adofleet", r.PathValue("pool"))})
		return
	}
	body, berr := webhookauth.ReadBody(w, r, h.opts.MaxBodyBytes)
	if berr != nil {
		h.reply(w, berr.Status, pool, berr.Outcome, answer{Status: "error", Message: berr.Error()})
		return
	}
	plan, ferrs := parsePlan(r.Header, body)
	if ferrs != nil {
		h.reply(w, http.StatusBadRequest, pool, "bad_request", answer{Status: "error", Message: "missing or malformed check fields; see docs/checks.md for the headers and body to configure", Errors: ferrs})
		return
	}
	req := CheckRequest{Pool: pool, Plan: plan, ReceivedAt: h.opts.Now().UTC()}
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.PutTimeout)
	defer cancel()
	created, err := h.opts.Requests.Put(ctx, req)
	if err != nil {
		h.log.Error("recording a check request failed", "pool", pool, "plan", plan.PlanID, "job", plan.JobID, "err", err)
		h.reply(w, http.StatusServiceUnavailable, pool, "error", answer{Status: "error", Message: "could not record the request; ADO may retry the check"})
		return
	}
	if h.opts.Wake != nil {
		h.opts.Wake(pool)
	}
	outcome := "accepted"
	if !created {
		outcome = "duplicate"
	}
	h.log.Info("check request recorded", "pool", pool, "plan", plan.PlanID, "job", plan.JobID, "task", plan.TaskInstanceID, "new", created)
	h.reply(w, http.StatusOK, pool, outcome, answer{Status: "accepted", Pool: pool, Message: "adofleet will call back when an agent is online"})
}
