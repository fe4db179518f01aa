package ado

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var _ API = (*Client)(nil)

// Defaults for Options.
const (
	DefaultTimeout    = 30 * time.Second
	DefaultMaxRetries = 5
	defaultUserAgent  = "adofleet"
	// apiVersion is the released version of every documented call adofleet makes.
	apiVersion = "7.1"
)

// Options configure a Client. OrgURL and exactly one of PAT, BearerToken and Credential are
// required.
type Options struct {
	// OrgURL is the organization's URL: https://dev.azure.com/contoso, or the simulator's
	// http://127.0.0.1:PORT/ORG. It must not carry credentials.
	OrgURL string
	// PAT is a personal access token, sent as basic auth with an empty user name.
	PAT string
	// BearerToken is an Entra ID (or other OAuth) access token. Exclusive with PAT.
	BearerToken string
	// Credential, exclusive with PAT and BearerToken, returns the credential to use; it is called
	// before every HTTP attempt, so a rotated token is used without a new Client. It must be
	// cheap (cache behind it) and safe for concurrent use. Its error fails the call, unretried.
	Credential func(ctx context.Context) (Credential, error)

	// HTTPClient sends the requests; nil means a client of its own over NewTransport. Its
	// Timeout, if any, applies on top of the per-attempt Timeout.
	HTTPClient *http.Client
	// Timeout bounds one HTTP attempt, body included (default 30s).
	Timeout time.Duration
	// MaxRetries is how many times a failed attempt is retried (default 5; negative: never).
	MaxRetries int
	// Logger receives retry and rate-limit warnings (default: discard).
	Logger *slog.Logger
	// Registerer receives the client's metrics; nil means no metrics are registered.
	Registerer prometheus.Registerer
	// UserAgent is sent on every request (default "adofleet").
	UserAgent string
	// OnThrottle, if set, is called on every 429 answer with the call's name (e.g. "ListAgents")
	// and the wait ADO asked for in Retry-After (0 when it named none), so that serve can report
	// the throttling. It is called on the request's goroutine and must not block.
	OnThrottle func(op string, retryAfter time.Duration)

	// Sleep waits d or until ctx ends (test seam; default a timer). Under testing/synctest the
	// default already runs on the bubble's fake clock; tests set it to record the waits.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock used for X-RateLimit-Reset and Retry-After dates (test seam; default time.Now).
	Now func() time.Time
	// Jitter returns a random duration in [0, d) added to each backoff (test seam; default random).
	Jitter func(d time.Duration) time.Duration
}

// Client is the Azure DevOps REST client. It is safe for concurrent use.
type Client struct {
	org        *url.URL     // the organization URL, with a trailing slash
	creds      *credentials // the org credential; its values are never logged
	http       *http.Client
	timeout    time.Duration
	maxRetries int
	log        *slog.Logger
	metrics    *metrics
	userAgent  string
	sleep      func(ctx context.Context, d time.Duration) error
	now        func() time.Time
	jitter     func(d time.Duration) time.Duration
	onThrottle func(op string, retryAfter time.Duration)

	calls atomic.Int64 // HTTP attempts made

	mu        sync.Mutex
	notBefore time.Time // no request starts before this (Retry-After, X-RateLimit-*)
	logIDs    map[string]int
}

// New validates opts and returns a Client.
func New(opts Options) (*Client, error) {
	org, err := parseOrgURL(opts.OrgURL)
	if err != nil {
		return nil, err
	}
	creds, err := newCredentials(opts)
	if err != nil {
		return nil, err
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("ado: options: Timeout must not be negative, got %s", opts.Timeout)
	}
	c := &Client{
		org:        org,
		creds:      creds,
		http:       opts.HTTPClient,
		timeout:    opts.Timeout,
		maxRetries: opts.MaxRetries,
		log:        opts.Logger,
		userAgent:  opts.UserAgent,
		sleep:      opts.Sleep,
		now:        opts.Now,
		jitter:     opts.Jitter,
		onThrottle: opts.OnThrottle,
		logIDs:     map[string]int{},
	}
	if c.http == nil {
		c.http = &http.Client{Transport: NewTransport()}
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("component", "ado")
	if c.userAgent == "" {
		c.userAgent = defaultUserAgent
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.jitter == nil {
		c.jitter = randJitter
	}
	if c.metrics, err = newMetrics(opts.Registerer); err != nil {
		return nil, err
	}
	return c, nil
}

// Calls returns how many HTTP requests the client has made (every attempt counts), so callers
// can report API cost per cycle as the difference between two readings.
func (c *Client) Calls() int64 { return c.calls.Load() }

func parseOrgURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("ado: options: OrgURL is required (e.g. https://dev.azure.com/contoso)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// Not the *url.Error itself: it quotes the URL, which may hold a credential.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("ado: options: OrgURL is not a valid URL: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("ado: options: OrgURL must be an http(s) URL, got scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("ado: options: OrgURL has no host")
	}
	if u.User != nil {
		return nil, errors.New("ado: options: OrgURL must not contain credentials; set PAT or BearerToken")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("ado: options: OrgURL must not have a query or fragment")
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/"
	u.RawPath = ""
	return u, nil
}

func basicAuth(pat string) string {
	req := http.Request{Header: http.Header{}}
	req.SetBasicAuth("", pat)
	return req.Header.Get("Authorization")
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func randJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// drain discards what is left of a body so the connection can be reused.
func drain(r io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 64<<10))
	_ = r.Close()
}
