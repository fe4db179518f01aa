package ado_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/ado"
)

const signInPage = `<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head><body>Sign in</body></html>`

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		reply   func(w http.ResponseWriter)
		call    func(ctx context.Context, c *ado.Client) error
		wantMsg string
		is      error // the sentinel errors.Is must match; nil for none
		typeKey string
	}{{
		name: "409 carries ADO's message",
		reply: func(w http.ResponseWriter) {
			adoError(w, 409, "TaskAgentBusyException", "The agent is running a job and cannot be updated.")
		},
		call: func(ctx context.Context, c *ado.Client) error {
			_, err := c.SetAgentEnabled(ctx, 3, 12, false)
			return err
		},
		wantMsg: "ado: disable agent 12 in pool 3: 409 Conflict: The agent is running a job and cannot be updated.",
		typeKey: "TaskAgentBusyException",
	}, {
		name: "404 is ErrNotFound",
		reply: func(w http.ResponseWriter) {
			adoError(w, 404, "TaskAgentNotFoundException", "No agent with ID 12 exists in pool 3.")
		},
		call: func(ctx context.Context, c *ado.Client) error {
			_, err := c.GetAgent(ctx, 3, 12)
			return err
		},
		wantMsg: "ado: get agent 12 in pool 3: 404 Not Found: No agent with ID 12 exists in pool 3.",
		is:      ado.ErrNotFound, typeKey: "TaskAgentNotFoundException",
	}, {
		name: "401 is ErrUnauthorized",
		reply: func(w http.ResponseWriter) {
			adoError(w, 401, "UnauthorizedRequestException", "TF400813: The user '' is not authorized to access this resource.")
		},
		call: func(ctx context.Context, c *ado.Client) error {
			_, err := c.ListAgents(ctx, 3)
			return err
		},
		wantMsg: "ado: list agents in pool 3: 401 Unauthorized: TF400813: The user '' is not authorized to access this resource.",
		is:      ado.ErrUnauthorized, typeKey: "UnauthorizedRequestException",
	}, {
		name: "203 sign-in page is ErrUnauthorized",
		reply: func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(203)
			_, _ = w.Write([]byte(signInPage))
		},
		call: func(ctx context.Context, c *ado.Client) error {
			_, err := c.FindPool(ctx, "linux")
			return err
		},
		wantMsg: `ado: find pool "linux": 203 Non-Authoritative Information: ADO returned an HTML sign-in page: the PAT or token is invalid, expired or lacks the scope`,
		is:      ado.ErrUnauthorized,
	}, {
		name: "200 HTML page is ErrUnauthorized",
		reply: func(w http.ResponseWriter) {
			w.WriteHeader(200)
			_, _ = w.Write([]byte(signInPage))
		},
		call: func(ctx context.Context, c *ado.Client) error {
			_, err := c.ListEnvironments(ctx, "web")
			return err
		},
		wantMsg: `ado: list environments in project "web": 401 Unauthorized: ADO returned an HTML sign-in page: the PAT or token is invalid, expired or lacks the scope`,
		is:      ado.ErrUnauthorized,
	}, {
		name:  "400 with a plain body",
		reply: func(w http.ResponseWriter) { w.WriteHeader(400); _, _ = w.Write([]byte("bad request\n")) },
		call: func(ctx context.Context, c *ado.Client) error {
			_, err := c.AddAgent(ctx, 3, ado.Agent{Name: "x"})
			return err
		},
		wantMsg: `ado: add agent "x" to pool 3: 400 Bad Request: bad request`,
	}, {
		name:  "FindPool with no match names the pool",
		reply: func(w http.ResponseWriter) { writeJSON(w, 200, []byte(`{"count":0,"value":[]}`)) },
		call: func(ctx context.Context, c *ado.Client) error {
			_, err := c.FindPool(ctx, "gpu-pool")
			return err
		},
		wantMsg: `ado: find pool "gpu-pool": no agent pool has that name: not found`,
		is:      ado.ErrNotFound,
	}, {
		name:  "undecodable success body",
		reply: func(w http.ResponseWriter) { writeJSON(w, 200, []byte(`{"count":1,"value":[{"id":"x"}]}`)) },
		call: func(ctx context.Context, c *ado.Client) error {
			_, err := c.ListAgents(ctx, 3)
			return err
		},
		wantMsg: "ado: list agents in pool 3: decode response: json: cannot unmarshal string into Go struct field leanAgent.value.id of type int",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) { tt.reply(w) })
			c := newClient(t, f, nil)
			err := tt.call(t.Context(), c)
			if err == nil {
				t.Fatal("got nil error")
			}
			if got := err.Error(); got != tt.wantMsg {
				t.Errorf("got  %q\nwant %q", got, tt.wantMsg)
			}
			for _, sentinel := range []error{ado.ErrNotFound, ado.ErrUnauthorized, ado.ErrThrottled} {
				if got, want := errors.Is(err, sentinel), sentinel == tt.is; got != want {
					t.Errorf("errors.Is(err, %v) = %v, want %v", sentinel, got, want)
				}
			}
			var ae *ado.Error
			if errors.As(err, &ae) && ae.TypeKey != tt.typeKey {
				t.Errorf("got TypeKey %q, want %q", ae.TypeKey, tt.typeKey)
			}
			if got := c.Calls(); got != 1 {
				t.Errorf("got %d calls, want 1 (4xx are not retried)", got)
			}
		})
	}
}

// TestGoneIsSuccess: deleting what is already gone succeeds.
func TestGoneIsSuccess(t *testing.T) {
	t.Parallel()
	f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) {
		adoError(w, 404, "TaskAgentNotFoundException", "gone")
	})
	c := newClient(t, f, nil)
	if err := c.DeleteAgent(t.Context(), 3, 12); err != nil {
		t.Errorf("DeleteAgent of a missing agent: %v, want nil", err)
	}
	if err := c.DeleteVMResource(t.Context(), "web", 4, 9); err != nil {
		t.Errorf("DeleteVMResource of a missing resource: %v, want nil", err)
	}
}

func TestAuthHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*ado.Options)
		want string
	}{
		{"PAT is basic auth with an empty user", nil, "Basic " + base64.StdEncoding.EncodeToString([]byte(":"+testPAT))},
		{"bearer token", func(o *ado.Options) { o.PAT, o.BearerToken = "", "entra-token" }, "Bearer entra-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) { writeJSON(w, 200, pools(t)) })
			c := newClient(t, f, func(o *ado.Options) {
				o.UserAgent = "adofleet/test"
				if tt.edit != nil {
					tt.edit(o)
				}
			})
			if _, err := c.FindPool(t.Context(), "LINUX"); err != nil {
				t.Fatal(err)
			}
			h := f.requests()[0].Header
			if got := h.Get("Authorization"); got != tt.want {
				t.Errorf("got Authorization %q, want %q", got, tt.want)
			}
			if got := h.Get("User-Agent"); got != "adofleet/test" {
				t.Errorf("got User-Agent %q, want adofleet/test", got)
			}
			if got := h.Get("X-TFS-FedAuthRedirect"); got != "Suppress" {
				t.Errorf("got X-TFS-FedAuthRedirect %q, want Suppress", got)
			}
		})
	}
}

func TestNewValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts ado.Options
		want string // a substring naming the field
	}{
		{"no OrgURL", ado.Options{PAT: "x"}, "OrgURL is required"},
		{"bad scheme", ado.Options{OrgURL: "ftp://dev.azure.com/x", PAT: "x"}, "OrgURL must be an http(s) URL"},
		{"no host", ado.Options{OrgURL: "https:///x", PAT: "x"}, "OrgURL has no host"},
		{"credentials in URL", ado.Options{OrgURL: "https://u:" + testPAT + "@dev.azure.com/x", PAT: "x"}, "OrgURL must not contain credentials"},
		{"unparsable URL", ado.Options{OrgURL: "https://:" + testPAT + "@dev.azure.com/%zz", PAT: "x"}, "OrgURL is not a valid URL"},
		{"query in URL", ado.Options{OrgURL: "https://dev.azure.com/x?a=b", PAT: "x"}, "OrgURL must not have a query"},
		{"no credential", ado.Options{OrgURL: "https://dev.azure.com/x"}, "PAT or BearerToken is required"},
		{"both credentials", ado.Options{OrgURL: "https://dev.azure.com/x", PAT: testPAT, BearerToken: "b"}, "PAT and BearerToken are exclusive"},
		{"line break in PAT", ado.Options{OrgURL: "https://dev.azure.com/x", PAT: testPAT + "\n"}, "PAT/BearerToken contains a line break"},
		{"negative timeout", ado.Options{OrgURL: "https://dev.azure.com/x", PAT: "x", Timeout: -time.Second}, "Timeout must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ado.New(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), testPAT) {
				t.Errorf("error leaks the PAT: %v", err)
			}
		})
	}
}

// TestMetricsRegistration: two clients may share a registry (their series add up), and a
// conflicting collector is reported.
func TestMetricsRegistration(t *testing.T) {
	t.Parallel()
	f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) { writeJSON(w, 200, pools(t)) })
	reg := prometheus.NewRegistry()
	a := newClient(t, f, func(o *ado.Options) { o.Registerer = reg })
	b := newClient(t, f, func(o *ado.Options) { o.Registerer = reg })
	for _, c := range []*ado.Client{a, b, b} {
		if _, err := c.FindPool(t.Context(), "LINUX"); err != nil {
			t.Fatal(err)
		}
	}
	if got := counter(t, reg, "adofleet_ado_requests_total", "call", "FindPool", "code", "200"); got != 3 {
		t.Errorf("got requests_total %v, want 3", got)
	}
	if a.Calls() != 1 || b.Calls() != 2 {
		t.Errorf("got Calls() %d and %d, want 1 and 2", a.Calls(), b.Calls())
	}

	clash := prometheus.NewRegistry()
	clash.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "adofleet_ado_requests_total", Help: "x"}))
	if _, err := ado.New(ado.Options{OrgURL: f.orgURL(), PAT: "x", Registerer: clash}); err == nil {
		t.Error("New with a clashing metric: got nil error, want one")
	}
}

// TestSecretsNeverLeak provokes every error path with recognisable credentials and a server that
// echoes them back, then searches every error string, every log line and every metric label.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	const bearer = "bearer-SECRET-0c4e2b9d"
	const planToken = "plantoken-SECRET-91ad77"
	secrets := []string{testPAT, bearer, planToken,
		base64.StdEncoding.EncodeToString([]byte(":" + testPAT)), "SECRET"}

	var mode sync.Map // path -> behaviour
	f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) {
		echo := "you sent " + r.Header.Get("Authorization") + " (" + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") + ")"
		b, _ := mode.Load(r.URL.Path)
		switch b {
		case "401":
			adoError(w, 401, "UnauthorizedRequestException", echo)
		case "203":
			w.WriteHeader(203)
			_, _ = w.Write([]byte(signInPage + echo))
		case "409":
			adoError(w, 409, "Conflict", echo)
		case "429":
			w.Header().Set("Retry-After", "0")
			adoError(w, 429, "RequestThrottledException", echo)
		case "500":
			w.WriteHeader(500)
			_, _ = w.Write([]byte(echo))
		case "hang":
			<-r.Context().Done()
		case "badjson":
			writeJSON(w, 200, []byte(`{"count":1,"value":[`+echo))
		default:
			adoError(w, 404, "NotFound", echo)
		}
	})
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := prometheus.NewRegistry()
	noSleep := func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	pat := newClient(t, f, func(o *ado.Options) {
		o.Logger, o.Registerer, o.Sleep, o.MaxRetries, o.Timeout = logger, reg, noSleep, 2, 200*time.Millisecond
	})
	bear := newClient(t, f, func(o *ado.Options) {
		o.PAT, o.BearerToken = "", bearer
		o.Logger, o.Registerer, o.Sleep, o.MaxRetries = logger, reg, noSleep, 2
	})
	dead, err := ado.New(ado.Options{OrgURL: "http://127.0.0.1:1/fabrikam", PAT: testPAT, Logger: logger,
		Registerer: reg, Sleep: noSleep, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	plan := ado.PlanRef{PlanURL: f.URL + "/fabrikam/", ProjectID: "p", HubName: "checks", PlanID: "plan",
		JobID: "job", TaskInstanceID: "task", AuthToken: planToken}
	set := func(path, b string) { mode.Store("/fabrikam/"+path, b) }
	set("_apis/distributedtask/pools/1/agents", "401")
	set("_apis/distributedtask/pools/2/agents", "203")
	set("_apis/distributedtask/pools/3/agents/4", "409")
	set("_apis/distributedtask/pools/5/jobrequests", "429")
	set("_apis/distributedtask/pools/6/agents/7", "500")
	set("_apis/distributedtask/pools/8/agents", "hang")
	set("_apis/distributedtask/pools/9/agents", "badjson")
	set("p/_apis/distributedtask/hubs/checks/plans/plan/events", "409")
	set("p/_apis/distributedtask/hubs/checks/plans/plan/logs", "500")

	ctx := t.Context()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	var errs []error
	collect := func(err error) {
		if err == nil {
			t.Error("an error path returned nil")
			return
		}
		errs = append(errs, err)
	}
	for _, c := range []*ado.Client{pat, bear} {
		_, err := c.ListAgents(ctx, 1)
		collect(err)
		_, err = c.ListAgents(ctx, 2)
		collect(err)
		_, err = c.SetAgentEnabled(ctx, 3, 4, false)
		collect(err)
		_, err = c.ListJobRequests(ctx, 5)
		collect(err)
		_, err = c.GetAgent(ctx, 6, 7)
		collect(err)
		_, err = c.ListAgents(ctx, 9)
		collect(err)
		_, err = c.GetAgent(ctx, 10, 11) // 404
		collect(err)
		_, err = c.FindPool(canceled, "x")
		collect(err)
		collect(c.PostJobEvent(ctx, plan, ado.JobEvent{Name: "TaskCompleted", JobID: "job", TaskID: "task"}))
		collect(c.AppendLog(ctx, plan, []string{"line"}))
	}
	_, err = pat.ListAgents(ctx, 8) // per-attempt timeout
	collect(err)
	_, err = dead.ListAgents(ctx, 1) // connection refused
	collect(err)
	_, err = ado.New(ado.Options{OrgURL: "https://dev.azure.com/x", PAT: testPAT, BearerToken: bearer})
	collect(err)

	for _, err := range errs {
		t.Log(err)
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error leaks a credential (%q): %v", s, err)
			}
		}
	}
	logMu.Lock()
	logText := logs.String()
	logMu.Unlock()
	if !strings.Contains(logText, "retrying") {
		t.Errorf("expected retry warnings in the log, got:\n%s", logText)
	}
	for _, s := range secrets {
		if strings.Contains(logText, s) {
			t.Errorf("log leaks a credential (%q):\n%s", s, logText)
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				for _, s := range secrets {
					if strings.Contains(lp.GetValue(), s) {
						t.Errorf("metric %s label %s leaks a credential", mf.GetName(), lp.GetName())
					}
				}
			}
		}
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
