package checks_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/checks"
	"github.com/adofleet/adofleet/internal/store/sqlite"
	"github.com/adofleet/adofleet/internal/testclock"
	"github.com/adofleet/adofleet/internal/webhookauth/webhookauthtest"
)

const (
	testPAT    = "org-pat"
	testPool   = "linux"
	testUser   = "adofleet"
	testPass   = "s3cret-pass"
	testSecret = "shared-secret"
)

// env is an ADO simulator on loopback, the real ADO client, a state store (which keeps the check
// requests) in one SQLite file, and the check endpoint on loopback.
type env struct {
	org    *adosim.Org
	simURL string
	client *ado.Client
	dbPath string
	store  *sqlite.Store
	reqs   *checks.StoreRequests
	clock  *testclock.Manual // the handler's and the callbacker's
	url    string            // the check endpoint for testPool

	mu    sync.Mutex
	wakes []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{org: adosim.NewOrg(adosim.OrgOptions{Name: "fabrikam", Project: "web", Seed: 3}),
		clock: testclock.NewManual(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))}
	if _, err := e.org.AddPool(testPool); err != nil {
		t.Fatal(err)
	}
	run, err := adosim.NewServer(e.org, adosim.ServerOptions{PAT: testPAT}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run.Close() })
	e.simURL = run.URL
	if e.client, err = ado.New(ado.Options{OrgURL: run.URL, PAT: testPAT}); err != nil {
		t.Fatal(err)
	}
	e.dbPath = filepath.Join(t.TempDir(), "adofleet.db")
	e.openStores(t, ctx)
	h, err := checks.NewHandler(checks.Options{
		Auth:     checks.Auth{Username: testUser, Password: testPass, Secret: testSecret},
		Pool:     checks.PoolSet(testPool, "windows"),
		Requests: e.reqs,
		Wake: func(pool string) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.wakes = append(e.wakes, pool)
		},
		Now: e.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e.url = srv.URL + "/v1/checks/" + testPool
	return e
}

// openStores opens the state store, which keeps the check requests, on the file; a second call
// is a restart (the handler keeps the first requests handle, which stays valid).
func (e *env) openStores(t *testing.T, ctx context.Context) {
	t.Helper()
	st, err := sqlite.Open(ctx, e.dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e.store, e.reqs = st, checks.NewStoreRequests(st)
}

func (e *env) wakeCount() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.wakes)
}

func (e *env) callbacker(t *testing.T, timeout time.Duration) *checks.Callbacker {
	t.Helper()
	cb, err := checks.NewCallbacker(checks.CallbackerOptions{
		Requests: e.reqs, Claims: e.store, ADO: e.client, Timeout: timeout, Now: e.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return cb
}

// headers are the check's values as ADO's default headers carry them.
func (e *env) headers(p adosim.PlanSpec) map[string]string {
	return map[string]string{
		"PlanUrl": e.simURL + "/", "ProjectId": p.ProjectID, "HubName": p.HubName, "PlanId": p.PlanID,
		"JobId": p.JobID, "TimelineId": p.TimelineID, "TaskInstanceId": p.TaskInstanceID, "AuthToken": p.Token,
	}
}

type reply struct {
	code int
	body struct {
		Status string `json:"status"`
		Errors struct {
			Missing   []string          `json:"missing"`
			Malformed map[string]string `json:"malformed"`
		} `json:"errors"`
	}
}

// post calls the check endpoint; auth edits the request's credentials.
func post(t *testing.T, url string, headers map[string]string, body string, auth func(*http.Request)) reply {
	t.Helper()
	if auth == nil {
		auth = webhookauthtest.Basic(testUser, testPass)
	}
	withType := map[string]string{"Content-Type": "application/json"}
	maps.Copy(withType, headers)
	code, data := webhookauthtest.Post(t, url, withType, []byte(body), auth)
	r := reply{code: code}
	if err := json.Unmarshal(data, &r.body); err != nil {
		t.Fatalf("decode answer (status %d): %v", code, err)
	}
	return r
}

// startAgents runs n simulated agents in the pool and waits until they are all online and idle.
func (e *env) startAgents(t *testing.T, prefix string, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for i := range n {
		wg.Go(func() {
			_ = adosim.RunAgent(ctx, adosim.AgentOptions{URL: e.simURL, Token: testPAT, Pool: testPool,
				Name: prefix + "-" + itoa(i), PollTimeout: 5 * time.Second})
		})
	}
	// Bounded wait for the agents' sessions; this asserts no duration, it only gives up.
	for range 2000 {
		idle := 0
		for _, a := range e.org.Agents(testPool) {
			if strings.HasPrefix(a.Name, prefix+"-") && a.State == adosim.AgentIdle {
				idle++
			}
		}
		if idle == n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("the %d %s agents did not all come online", n, prefix)
}

func itoa(i int) string { return strconv.Itoa(i) }

// events returns the plan's posted events as "name/result" strings.
func (e *env) events(t *testing.T, planID string) []string {
	t.Helper()
	info, ok := e.org.Plan(planID)
	if !ok {
		t.Fatalf("plan %s not found", planID)
	}
	var out []string
	for _, ev := range info.Events {
		out = append(out, ev.Name+"/"+ev.Result)
	}
	return out
}

// logLines returns every line logged to the plan.
func (e *env) logLines(t *testing.T, planID string) []string {
	t.Helper()
	info, _ := e.org.Plan(planID)
	var out []string
	for _, l := range info.Logs {
		out = append(out, l.Lines...)
	}
	return out
}

func (e *env) planRef(p adosim.PlanSpec) ado.PlanRef {
	return ado.PlanRef{PlanURL: e.simURL + "/", ProjectID: p.ProjectID, HubName: p.HubName, PlanID: p.PlanID,
		JobID: p.JobID, TimelineID: p.TimelineID, TaskInstanceID: p.TaskInstanceID, AuthToken: p.Token}
}
