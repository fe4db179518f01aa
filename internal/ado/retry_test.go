package ado_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/promreg/promregtest"
)

// inBubble runs fn inside a synctest bubble with a client for f whose connections are not kept
// alive (an idle keep-alive connection's reader is not "durably blocked", so it would stop the
// bubble's clock). Jitter is zero so every wait is exact; time only moves when the client waits.
func inBubble(t *testing.T, f *fakeADO, edit func(*ado.Options), fn func(t *testing.T, c *ado.Client)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		c := newClient(t, f, func(o *ado.Options) {
			o.HTTPClient = hc
			o.Jitter = func(time.Duration) time.Duration { return 0 }
			if edit != nil {
				edit(o)
			}
		})
		fn(t, c)
	})
}

func pools(t *testing.T) []byte { return readTestdata(t, "pools.json") }

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter func(now time.Time) string
		want       time.Duration
	}{
		{"seconds", func(time.Time) string { return "7" }, 7 * time.Second},
		{"HTTP date", func(now time.Time) string { return now.Add(10 * time.Second).UTC().Format(http.TimeFormat) }, 10 * time.Second},
		{"zero", func(time.Time) string { return "0" }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var header atomic.Value
			f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 0 {
					w.Header().Set("Retry-After", header.Load().(string))
					adoError(w, 429, "RequestThrottledException", "Request was blocked due to exceeding usage of resource")
					return
				}
				writeJSON(w, 200, pools(t))
			})
			reg := prometheus.NewRegistry()
			inBubble(t, f, func(o *ado.Options) { o.Registerer = reg }, func(t *testing.T, c *ado.Client) {
				start := time.Now()
				header.Store(tt.retryAfter(start))
				if _, err := c.FindPool(t.Context(), "LINUX"); err != nil {
					t.Fatalf("FindPool: %v", err)
				}
				if got := time.Since(start); got != tt.want {
					t.Errorf("waited %s, want %s (Retry-After)", got, tt.want)
				}
				if got := c.Calls(); got != 2 {
					t.Errorf("got Calls() %d, want 2", got)
				}
			})
			if got := counter(t, reg, "adofleet_ado_retries_total", "call", "FindPool", "reason", "throttled"); got != 1 {
				t.Errorf("got retries_total{throttled} %v, want 1", got)
			}
			if got := counter(t, reg, "adofleet_ado_requests_total", "call", "FindPool", "code", "429"); got != 1 {
				t.Errorf("got requests_total{code=429} %v, want 1", got)
			}
		})
	}
}

func TestServerErrorThenSuccess(t *testing.T) {
	t.Parallel()
	f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 0:
			adoError(w, 503, "ServiceUnavailableException", "The service is temporarily unavailable")
		case 1:
			w.WriteHeader(502) // a gateway page, no JSON
		default:
			writeJSON(w, 200, readTestdata(t, "agents.json"))
		}
	})
	reg := prometheus.NewRegistry()
	inBubble(t, f, func(o *ado.Options) { o.Registerer = reg }, func(t *testing.T, c *ado.Client) {
		start := time.Now()
		agents, err := c.ListAgents(t.Context(), 12)
		if err != nil {
			t.Fatalf("ListAgents: %v", err)
		}
		if len(agents) != 2 {
			t.Errorf("got %d agents, want 2", len(agents))
		}
		// Exponential backoff with no jitter: half of 500ms, then half of 1s.
		if got, want := time.Since(start), 250*time.Millisecond+500*time.Millisecond; got != want {
			t.Errorf("waited %s, want %s", got, want)
		}
	})
	if got := counter(t, reg, "adofleet_ado_retries_total", "call", "ListAgents", "reason", "server_error"); got != 2 {
		t.Errorf("got retries_total{server_error} %v, want 2", got)
	}
}

// TestNonIdempotentRetries: POSTs that create something retry only when ADO says nothing happened.
func TestNonIdempotentRetries(t *testing.T) {
	t.Parallel()
	plan := func(f *fakeADO) ado.PlanRef {
		return ado.PlanRef{PlanURL: f.URL + "/fabrikam/", ProjectID: "p", HubName: "checks", PlanID: "plan",
			JobID: "job", TaskInstanceID: "task", AuthToken: "tok"}
	}
	tests := []struct {
		name      string
		status    int
		retryHdr  string
		call      func(ctx context.Context, c *ado.Client, f *fakeADO) error
		wantCalls int64
		wantErr   bool
	}{
		{"AddAgent 503 without Retry-After", 503, "", addAgent, 1, true},
		{"AddAgent 500", 500, "", addAgent, 1, true},
		{"AddAgent 503 with Retry-After", 503, "2", addAgent, 2, false},
		{"AddAgent 429", 429, "", addAgent, 2, false},
		{"PostJobEvent 500", 500, "", func(ctx context.Context, c *ado.Client, f *fakeADO) error {
			return c.PostJobEvent(ctx, plan(f), ado.JobEvent{Name: "TaskCompleted", JobID: "job", TaskID: "task", Result: "succeeded"})
		}, 1, true},
		{"PostJobEvent 429", 429, "1", func(ctx context.Context, c *ado.Client, f *fakeADO) error {
			return c.PostJobEvent(ctx, plan(f), ado.JobEvent{Name: "TaskCompleted", JobID: "job", TaskID: "task", Result: "succeeded"})
		}, 2, false},
		{"AppendLog 502", 502, "", func(ctx context.Context, c *ado.Client, f *fakeADO) error {
			return c.AppendLog(ctx, plan(f), []string{"x"})
		}, 1, true},
		{"GET 500 (idempotent, for contrast)", 500, "", func(ctx context.Context, c *ado.Client, f *fakeADO) error {
			_, err := c.GetAgent(ctx, 1, 2)
			return err
		}, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) {
				switch {
				case n == 0:
					if tt.retryHdr != "" {
						w.Header().Set("Retry-After", tt.retryHdr)
					}
					adoError(w, tt.status, "SomeException", "try later")
				case strings.HasSuffix(r.URL.Path, "/logs"):
					writeJSON(w, 200, []byte(`{"id":3,"path":"logs\\task"}`))
				case r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/plans/"):
					w.WriteHeader(http.StatusNoContent)
				default:
					writeJSON(w, 200, []byte(`{"id":5,"name":"a","enabled":true,"status":"offline"}`))
				}
			})
			inBubble(t, f, func(o *ado.Options) { o.MaxRetries = 1 }, func(t *testing.T, c *ado.Client) {
				err := tt.call(t.Context(), c, f)
				if gotErr := err != nil; gotErr != tt.wantErr {
					t.Errorf("got error %v, want error: %v", err, tt.wantErr)
				}
				var ae *ado.Error
				if tt.wantErr && (!errors.As(err, &ae) || ae.Status != tt.status) {
					t.Errorf("got %v, want an *ado.Error with status %d", err, tt.status)
				}
				if got := c.Calls(); got != tt.wantCalls {
					t.Errorf("got %d calls, want %d", got, tt.wantCalls)
				}
			})
		})
	}
}

func addAgent(ctx context.Context, c *ado.Client, _ *fakeADO) error {
	_, err := c.AddAgent(ctx, 1, ado.Agent{Name: "placeholder"})
	return err
}

func TestThrottledRetriesRunOut(t *testing.T) {
	t.Parallel()
	f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "1")
		adoError(w, 429, "RequestThrottledException", "TF400733: The request has been throttled")
	})
	inBubble(t, f, func(o *ado.Options) { o.MaxRetries = 2 }, func(t *testing.T, c *ado.Client) {
		start := time.Now()
		_, err := c.ListJobRequests(t.Context(), 3)
		if !errors.Is(err, ado.ErrThrottled) {
			t.Fatalf("got %v, want ErrThrottled", err)
		}
		if got, want := err.Error(), "ado: list job requests in pool 3: 429 Too Many Requests: TF400733: The request has been throttled"; got != want {
			t.Errorf("got error %q, want %q", got, want)
		}
		if got := c.Calls(); got != 3 {
			t.Errorf("got %d calls, want 3 (1 + MaxRetries)", got)
		}
		if got := time.Since(start); got != 2*time.Second {
			t.Errorf("waited %s, want 2s", got)
		}
	})
}

// TestRateLimitHeaders: a success that says the budget is spent (or that ADO is delaying us)
// holds the next call.
func TestRateLimitHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		headers func(now time.Time) map[string]string
		want    time.Duration
	}{
		{"remaining 0 waits for reset", func(now time.Time) map[string]string {
			return map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Limit": "200",
				"X-RateLimit-Resource": "ReleaseManagement", "X-RateLimit-Reset": strconv.FormatInt(now.Add(20*time.Second).Unix(), 10)}
		}, 20 * time.Second},
		{"remaining above 0 does not wait", func(now time.Time) map[string]string {
			return map[string]string{"X-RateLimit-Remaining": "12.5", "X-RateLimit-Reset": strconv.FormatInt(now.Add(20*time.Second).Unix(), 10)}
		}, 0},
		{"delay holds the next call", func(time.Time) map[string]string {
			return map[string]string{"X-RateLimit-Delay": "3.5"}
		}, 3500 * time.Millisecond},
		{"reset far away is capped at the 5 minute window", func(now time.Time) map[string]string {
			return map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(now.Add(time.Hour).Unix(), 10)}
		}, 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var hdrs atomic.Value
			f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 0 {
					for k, v := range hdrs.Load().(map[string]string) {
						w.Header().Set(k, v)
					}
				}
				writeJSON(w, 200, pools(t))
			})
			inBubble(t, f, nil, func(t *testing.T, c *ado.Client) {
				start := time.Now()
				hdrs.Store(tt.headers(start))
				if _, err := c.FindPool(t.Context(), "LINUX"); err != nil {
					t.Fatal(err)
				}
				if got := time.Since(start); got != 0 {
					t.Errorf("first call waited %s, want 0", got)
				}
				if _, err := c.FindPool(t.Context(), "LINUX"); err != nil {
					t.Fatal(err)
				}
				if got := time.Since(start); got != tt.want {
					t.Errorf("second call started after %s, want %s", got, tt.want)
				}
			})
		})
	}
}

func TestContextCancelDuringBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter string
	}{
		{"server Retry-After", "60"},
		{"client backoff", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				adoError(w, 503, "ServiceUnavailableException", "down for maintenance")
			})
			inBubble(t, f, func(o *ado.Options) { o.MaxRetries = 50 }, func(t *testing.T, c *ado.Client) {
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
				defer cancel()
				start := time.Now()
				err := c.DeleteAgent(ctx, 1, 2)
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("got %v, want context.DeadlineExceeded", err)
				}
				if !strings.Contains(err.Error(), "down for maintenance") {
					t.Errorf("error %q does not carry the last attempt's message", err)
				}
				if got := time.Since(start); got != 2*time.Second {
					t.Errorf("gave up after %s, want 2s (the context deadline)", got)
				}
			})
		})
	}
}

// TestPerAttemptTimeout: an attempt that hangs is cut off by Options.Timeout and retried.
func TestPerAttemptTimeout(t *testing.T) {
	t.Parallel()
	f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 0 {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return
		}
		writeJSON(w, 200, pools(t))
	})
	reg := prometheus.NewRegistry()
	c := newClient(t, f, func(o *ado.Options) {
		o.Timeout = 50 * time.Millisecond
		o.Registerer = reg
		o.Sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	})
	if _, err := c.FindPool(t.Context(), "LINUX"); err != nil {
		t.Fatalf("FindPool: %v", err)
	}
	if got := c.Calls(); got != 2 {
		t.Errorf("got %d calls, want 2", got)
	}
	if got := counter(t, reg, "adofleet_ado_retries_total", "call", "FindPool", "reason", "transport"); got != 1 {
		t.Errorf("got retries_total{transport} %v, want 1", got)
	}
	if got := counter(t, reg, "adofleet_ado_requests_total", "call", "FindPool", "code", "error"); got != 1 {
		t.Errorf("got requests_total{code=error} %v, want 1", got)
	}
}

// counter reads one counter series from reg; labels are name, value pairs.
func counter(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	v, _ := promregtest.Value(t, reg, name, labels...)
	return v
}

// A POST whose connection was never made (the dial was refused) cannot have reached ADO, so it is
// sent again; once a connection carried it, it is not (TestNonIdempotentRetries).
func TestNotSentPostIsRetried(t *testing.T) {
	t.Parallel()
	f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(http.StatusNoContent) })
	reg := prometheus.NewRegistry()
	var dials atomic.Int64
	inBubble(t, f, func(o *ado.Options) {
		o.MaxRetries = 2
		o.Registerer = reg
		var d net.Dialer
		o.HTTPClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if dials.Add(1) == 1 {
					return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused")}
				}
				return d.DialContext(ctx, network, addr)
			}}}
	}, func(t *testing.T, c *ado.Client) {
		plan := ado.PlanRef{PlanURL: f.URL + "/fabrikam/", ProjectID: "p", HubName: "checks", PlanID: "plan",
			JobID: "job", TaskInstanceID: "task", AuthToken: "tok"}
		if err := c.PostJobEvent(t.Context(), plan, ado.JobEvent{Name: "TaskCompleted", JobID: "job", TaskID: "task", Result: "succeeded"}); err != nil {
			t.Fatalf("PostJobEvent after a refused dial: %v", err)
		}
		if got := len(f.requests()); got != 1 {
			t.Errorf("ADO received %d requests, want 1", got)
		}
		if got := counter(t, reg, "adofleet_ado_retries_total", "call", "PostJobEvent", "reason", "transport"); got != 1 {
			t.Errorf("retries_total{PostJobEvent, transport} = %v, want 1", got)
		}
	})
}
