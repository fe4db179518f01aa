package ado_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/ado"
)

var agentFlags = url.Values{
	"includeCapabilities":         {"true"},
	"includeAssignedRequest":      {"true"},
	"includeLastCompletedRequest": {"true"},
	"api-version":                 {"7.1"},
}

// listAgentFlags: the list does not ask for capabilities (nothing reads them).
var listAgentFlags = url.Values{
	"includeAssignedRequest":      {"true"},
	"includeLastCompletedRequest": {"true"},
	"api-version":                 {"7.1"},
}

// listAgentsSummary is what a test compares of ListAgents' answer: the fields it documents.
func listAgentsSummary(ctx context.Context, c *ado.Client) (any, error) {
	as, err := c.ListAgents(ctx, 12)
	var out []any
	for _, a := range as {
		var assigned, last int64
		var finished time.Time
		if a.AssignedRequest != nil {
			assigned = a.AssignedRequest.RequestID
		}
		if r := a.LastCompleted; r != nil && r.FinishTime != nil && r.Result != nil {
			last, finished = r.RequestID, *r.FinishTime
			if *r.Result != "succeeded" {
				last = -1
			}
		}
		out = append(out, []any{a.ID, a.Name, a.Version, a.Enabled, a.Status, a.CreatedOn.Format(time.RFC3339),
			len(a.Capabilities()), assigned, last, finished.Format(time.RFC3339)})
	}
	return out, err
}

func v71() url.Values { return url.Values{"api-version": {"7.1"}} }

// TestCalls checks each org call's method, path, query and body, and what it makes of ADO's answer.
func TestCalls(t *testing.T) {
	t.Parallel()
	exampleAgent := func(t *testing.T) []byte {
		var ex struct {
			Responses map[string]struct {
				Body struct {
					Agent jsonRaw `json:"agent"`
				} `json:"body"`
			} `json:"responses"`
		}
		mustUnmarshal(t, readTestdata(t, "httpExamples/GET__distributedtask_DeploymentTargets__Id_.json"), &ex)
		return ex.Responses["200"].Body.Agent
	}
	tests := []struct {
		name      string
		status    int
		body      func(t *testing.T) []byte
		call      func(ctx context.Context, c *ado.Client) (any, error)
		method    string
		path      string
		query     url.Values
		wantBody  string // JSON; "" for no body
		wantValue any
	}{{
		name: "FindPool", status: 200,
		body: func(t *testing.T) []byte { return readTestdata(t, "pools.json") },
		call: func(ctx context.Context, c *ado.Client) (any, error) {
			p, err := c.FindPool(ctx, "linux-gpu")
			return p.ID, err
		},
		method: "GET", path: "/fabrikam/_apis/distributedtask/pools",
		query:     url.Values{"poolName": {"linux-gpu"}, "api-version": {"7.1"}},
		wantValue: 13,
	}, {
		name: "FindPool case-insensitive", status: 200,
		body: func(t *testing.T) []byte { return readTestdata(t, "pools.json") },
		call: func(ctx context.Context, c *ado.Client) (any, error) {
			p, err := c.FindPool(ctx, "linux")
			return []any{p.ID, p.Name, p.PoolType, p.Size}, err
		},
		method: "GET", path: "/fabrikam/_apis/distributedtask/pools",
		query:     url.Values{"poolName": {"linux"}, "api-version": {"7.1"}},
		wantValue: []any{12, "LINUX", "automation", 3},
	}, {
		name: "ListAgents", status: 200,
		body:   func(t *testing.T) []byte { return readTestdata(t, "agents_list.json") },
		call:   listAgentsSummary,
		method: "GET", path: "/fabrikam/_apis/distributedtask/pools/12/agents", query: listAgentFlags,
		wantValue: []any{
			[]any{31, "adofleet-linux-7k2p", "3.236.1", true, ado.AgentOnline, "2024-05-02T08:00:00Z", 0, int64(5501), int64(0), "0001-01-01T00:00:00Z"},
			[]any{2, "adofleet-placeholder-docker", "3.236.1", false, ado.AgentOffline, "2024-04-01T08:00:00Z", 0, int64(0), int64(5400), "2024-04-01T09:05:00Z"},
		},
	}, {
		// Capabilities sent anyway (a proxy that adds the flag, an older server) are not decoded.
		name: "ListAgents capabilities not kept", status: 200,
		body:   func(t *testing.T) []byte { return readTestdata(t, "agents.json") },
		call:   listAgentsSummary,
		method: "GET", path: "/fabrikam/_apis/distributedtask/pools/12/agents", query: listAgentFlags,
		wantValue: []any{
			[]any{31, "adofleet-linux-7k2p", "3.236.1", true, ado.AgentOnline, "2024-05-02T08:00:00Z", 0, int64(5501), int64(0), "0001-01-01T00:00:00Z"},
			[]any{2, "adofleet-placeholder-docker", "3.236.1", false, ado.AgentOffline, "2024-04-01T08:00:00Z", 0, int64(0), int64(5400), "2024-04-01T09:05:00Z"},
		},
	}, {
		name: "GetAgent", status: 200, body: exampleAgent,
		call: func(ctx context.Context, c *ado.Client) (any, error) {
			a, err := c.GetAgent(ctx, 17, 5)
			return []any{a.ID, a.Name, a.Version, a.Status, a.MaxParallelism, a.Authorization.PublicKey.Exponent}, err
		},
		method: "GET", path: "/fabrikam/_apis/distributedtask/pools/17/agents/5", query: agentFlags,
		wantValue: []any{5, "demoTarget1", "2.127.0", ado.AgentOnline, 1, "AQAB"},
	}, {
		name: "AddAgent", status: 200, body: exampleAgent,
		call: func(ctx context.Context, c *ado.Client) (any, error) {
			a, err := c.AddAgent(ctx, 17, ado.Agent{
				Name: "adofleet-placeholder-docker", Version: "3.236.1", Enabled: false,
				Status: ado.AgentOffline, CreatedOn: time.Now(), ID: 99, MaxParallelism: 1,
				UserCapabilities: map[string]string{"docker": "true"},
			})
			return a.ID, err
		},
		method: "POST", path: "/fabrikam/_apis/distributedtask/pools/17/agents", query: v71(),
		wantBody:  `{"name":"adofleet-placeholder-docker","version":"3.236.1","enabled":false,"maxParallelism":1,"userCapabilities":{"docker":"true"}}`,
		wantValue: 5,
	}, {
		name: "SetAgentEnabled false", status: 200, body: exampleAgent,
		call: func(ctx context.Context, c *ado.Client) (any, error) {
			a, err := c.SetAgentEnabled(ctx, 17, 5, false)
			return a.ID, err
		},
		method: "PATCH", path: "/fabrikam/_apis/distributedtask/pools/17/agents/5", query: v71(),
		wantBody: `{"id":5,"enabled":false}`, wantValue: 5,
	}, {
		name: "SetAgentEnabled true", status: 200, body: exampleAgent,
		call: func(ctx context.Context, c *ado.Client) (any, error) {
			a, err := c.SetAgentEnabled(ctx, 17, 5, true)
			return a.Enabled, err
		},
		method: "PATCH", path: "/fabrikam/_apis/distributedtask/pools/17/agents/5", query: v71(),
		wantBody: `{"id":5,"enabled":true}`, wantValue: true,
	}, {
		name: "DeleteAgent", status: 204,
		call: func(ctx context.Context, c *ado.Client) (any, error) {
			return nil, c.DeleteAgent(ctx, 12, 31)
		},
		method: "DELETE", path: "/fabrikam/_apis/distributedtask/pools/12/agents/31", query: v71(),
	}, {
		name: "ListJobRequests", status: 200,
		body: func(t *testing.T) []byte { return readTestdata(t, "jobrequests_unfinished.json") },
		call: func(ctx context.Context, c *ado.Client) (any, error) {
			rs, err := c.ListJobRequests(ctx, 12)
			return requestIDs(rs), err
		},
		method: "GET", path: "/fabrikam/_apis/distributedtask/pools/12/jobrequests",
		query:     url.Values{"completedRequestCount": {"0"}, "$top": {"200"}},
		wantValue: []int64{6001, 5501}, // 5400 has a result and is dropped
	}, {
		name: "ListFinishedJobRequests", status: 200,
		body: func(t *testing.T) []byte { return readTestdata(t, "jobrequests_top.json") },
		call: func(ctx context.Context, c *ado.Client) (any, error) {
			rs, err := c.ListFinishedJobRequests(ctx, 12, 50)
			return requestIDs(rs), err
		},
		method: "GET", path: "/fabrikam/_apis/distributedtask/pools/12/jobrequests",
		query:     url.Values{"$top": {"50"}},
		wantValue: []int64{5400, 5399},
	}, {
		name: "ListEnvironments", status: 200,
		body: func(t *testing.T) []byte { return readTestdata(t, "environments.json") },
		call: func(ctx context.Context, c *ado.Client) (any, error) {
			return c.ListEnvironments(ctx, "Fabrikam Web")
		},
		method: "GET", path: "/fabrikam/Fabrikam%20Web/_apis/distributedtask/environments", query: v71(),
		wantValue: []ado.Environment{{ID: 4, Name: "production", Description: "EC2 web fleet"}, {ID: 5, Name: "staging"}},
	}, {
		name: "ListVMResources", status: 200,
		body: func(t *testing.T) []byte { return readTestdata(t, "vmresources.json") },
		call: func(ctx context.Context, c *ado.Client) (any, error) {
			rs, err := c.ListVMResources(ctx, "web", 4)
			var out []any
			for _, r := range rs {
				out = append(out, []any{r.ID, r.Name, r.Type, r.Tags, r.Agent.ID, r.Agent.Status})
			}
			return out, err
		},
		method: "GET", path: "/fabrikam/web/_apis/distributedtask/environments/4/providers/virtualmachines",
		query: url.Values{"api-version": {"7.1-preview.1"}},
		wantValue: []any{[]any{9, "i-0abc1234def567890", "virtualMachine", []string{"asg:web", "adofleet"},
			77, ado.AgentOnline}},
	}, {
		name: "DeleteVMResource", status: 204,
		call: func(ctx context.Context, c *ado.Client) (any, error) {
			return nil, c.DeleteVMResource(ctx, "web", 4, 9)
		},
		method: "DELETE", path: "/fabrikam/web/_apis/distributedtask/environments/4/providers/virtualmachines/9",
		query: url.Values{"api-version": {"7.1-preview.1"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var body []byte
			if tt.body != nil {
				body = tt.body(t)
			}
			f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if tt.status == http.StatusNoContent {
					w.WriteHeader(tt.status)
					return
				}
				writeJSON(w, tt.status, body)
			})
			c := newClient(t, f, nil)
			got, err := tt.call(t.Context(), c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if diff := cmp.Diff(tt.wantValue, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != tt.method || r.Path != tt.path {
				t.Errorf("got %s %s, want %s %s", r.Method, r.Path, tt.method, tt.path)
			}
			if diff := cmp.Diff(tt.query, r.Query); diff != "" {
				t.Errorf("query (-want +got):\n%s", diff)
			}
			switch {
			case tt.wantBody == "" && len(r.Body) != 0:
				t.Errorf("got body %s, want none", r.Body)
			case tt.wantBody != "":
				if diff := cmp.Diff(jsonValue(t, []byte(tt.wantBody)), jsonValue(t, r.Body)); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
				if got := r.Header.Get("Content-Type"); got != "application/json" {
					t.Errorf("got Content-Type %q, want application/json", got)
				}
			}
			if got, want := r.Header.Get("Accept"), "application/json"; got != want {
				t.Errorf("got Accept %q, want %q", got, want)
			}
			if got := c.Calls(); got != 1 {
				t.Errorf("got Calls() %d, want 1", got)
			}
		})
	}
}

func requestIDs(rs []ado.JobRequest) []int64 {
	var ids []int64
	for _, r := range rs {
		ids = append(ids, r.RequestID)
	}
	return ids
}

// TestJobRequestShapes decodes both shapes of the list, and checks the waiting/assigned/finished
// reading of each row: ListJobRequests gets the rows with matchedAgents here (as ADO would send
// them if it ignored $top next to completedRequestCount) and must skip them, ListFinishedJobRequests
// gets the $top shape.
func TestJobRequestShapes(t *testing.T) {
	t.Parallel()
	f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if q := r.URL.Query(); q.Has("$top") && !q.Has("completedRequestCount") {
			writeJSON(w, 200, readTestdata(t, "jobrequests_top.json"))
			return
		}
		writeJSON(w, 200, readTestdata(t, "jobrequests_unfinished.json"))
	})
	c := newClient(t, f, nil)

	open, err := c.ListJobRequests(t.Context(), 12)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID               int64
		Queued, Finished bool
		Matched          []string
		Reserved         string
		Demands          []string
	}
	summarise := func(rs []ado.JobRequest) []row {
		var out []row
		for _, r := range rs {
			x := row{ID: r.RequestID, Queued: r.Queued(), Finished: r.Finished(), Demands: r.Demands}
			for _, m := range r.MatchedAgents {
				x.Matched = append(x.Matched, m.Name)
			}
			if r.ReservedAgent != nil {
				x.Reserved = r.ReservedAgent.Name
			}
			out = append(out, x)
		}
		return out
	}
	want := []row{
		{ID: 6001, Queued: true, Demands: []string{"docker", "Agent.Version -gtVersion 2.163.1"}},
		{ID: 5501, Reserved: "adofleet-linux-7k2p", Demands: []string{"docker"}},
	}
	if diff := cmp.Diff(want, summarise(open)); diff != "" {
		t.Errorf("unfinished (-want +got):\n%s", diff)
	}
	if got := open[0].PlanID + open[0].JobID + open[0].PlanType; got != "" {
		t.Errorf("got plan and job ids %q, want none: the list does not decode them", got)
	}
	if got := open[0].Data; got != nil {
		t.Errorf("got data %v, want none: the list does not decode it", got)
	}

	done, err := c.ListFinishedJobRequests(t.Context(), 12, 1)
	if err != nil {
		t.Fatal(err)
	}
	wantDone := []row{{ID: 5400, Finished: true, Reserved: "adofleet-linux-q9x1"}}
	if diff := cmp.Diff(wantDone, summarise(done)); diff != "" {
		t.Errorf("finished, top 1 (-want +got):\n%s", diff)
	}
	if got := *done[0].Result; got != "succeeded" {
		t.Errorf("got result %q, want succeeded", got)
	}
	if _, err := c.ListFinishedJobRequests(t.Context(), 12, 0); err == nil {
		t.Error("ListFinishedJobRequests(top=0): got nil error, want one")
	}
}

// TestPlanCalls checks the check-callback calls against the official httpExamples: the event
// body and URL, the log creation and the appended lines, all with the plan's token.
func TestPlanCalls(t *testing.T) {
	t.Parallel()
	eventEx := readExample(t, "POST_distributedtask_PostEvent_.json")
	createEx := readExample(t, "POST__distributedtask_CreateLog_.json")
	appendEx := readExample(t, "POST__distributedtask_AppendLogContent_.json")
	f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/events"):
			w.WriteHeader(http.StatusNoContent)
		case strings.HasSuffix(r.URL.Path, "/logs"):
			writeJSON(w, 200, createEx.Responses["200"].Body)
		default:
			writeJSON(w, 200, appendEx.Responses["200"].Body)
		}
	})
	c := newClient(t, f, nil)
	plan := ado.PlanRef{
		PlanURL: f.URL + "/fabrikam/", ProjectID: "69f48e94-bdb4-42d7-a560-0f2b54f91cc8", HubName: "checks",
		PlanID: "67be341f-5310-552f-e0cd-7c580e77b98b", JobID: "3a7e60dc-c5b0-5009-86eb-0f217c12e2ea",
		TimelineID: "67be341f-5310-552f-e0cd-7c580e77b98b", TaskInstanceID: "5e6d5dbf-ac69-5f56-8b85-8e9038703a8b",
		AuthToken: "plan-job-token",
	}
	ctx := t.Context()
	if err := c.PostJobEvent(ctx, plan, ado.JobEvent{Name: "TaskCompleted",
		TaskID: "61153303-347e-5f06-a6a1-ce2102bd68eb", JobID: plan.JobID, Result: "succeeded"}); err != nil {
		t.Fatalf("PostJobEvent: %v", err)
	}
	if err := c.AppendLog(ctx, plan, []string{"adofleet: capacity ready", "2 agents online"}); err != nil {
		t.Fatalf("AppendLog: %v", err)
	}
	if err := c.AppendLog(ctx, plan, []string{"done"}); err != nil {
		t.Fatalf("AppendLog (second): %v", err)
	}

	reqs := f.requests()
	if len(reqs) != 4 {
		t.Fatalf("got %d requests, want 4 (event, create log, append, append)", len(reqs))
	}
	exURL, _ := url.Parse(eventEx.URL)
	base := "/fabrikam/" + plan.ProjectID + "/_apis/distributedtask/hubs/checks/plans/" + plan.PlanID
	want := []struct{ method, path, contentType, body string }{
		{"POST", exURL.Path, "application/json", string(eventEx.Parameters.Body)},
		{"POST", base + "/logs", "application/json", `{"id":0,"path":"logs\\5e6d5dbf-ac69-5f56-8b85-8e9038703a8b"}`},
		{"POST", base + "/logs/3", "application/octet-stream", "adofleet: capacity ready\n2 agents online\n"},
		{"POST", base + "/logs/3", "application/octet-stream", "done\n"},
	}
	for i, w := range want {
		r := reqs[i]
		if r.Method != w.method || r.Path != w.path {
			t.Errorf("request %d: got %s %s, want %s %s", i, r.Method, r.Path, w.method, w.path)
		}
		if got := r.Header.Get("Content-Type"); got != w.contentType {
			t.Errorf("request %d: got Content-Type %q, want %q", i, got, w.contentType)
		}
		if w.contentType == "application/json" {
			if diff := cmp.Diff(jsonValue(t, []byte(w.body)), jsonValue(t, r.Body)); diff != "" {
				t.Errorf("request %d body (-want +got):\n%s", i, diff)
			}
		} else if string(r.Body) != w.body {
			t.Errorf("request %d: got body %q, want %q", i, r.Body, w.body)
		}
		if got, want := r.Header.Get("Authorization"), "Bearer plan-job-token"; got != want {
			t.Errorf("request %d: got Authorization %q, want %q (the plan's token, not the PAT)", i, got, want)
		}
		if diff := cmp.Diff(v71(), r.Query); diff != "" {
			t.Errorf("request %d query (-want +got):\n%s", i, diff)
		}
	}
	// The create-log request matches the example's path (the example's body also carries
	// ADO-assigned fields, which a client leaves to the server).
	var exLog struct {
		Path string `json:"path"`
	}
	mustUnmarshal(t, createEx.Parameters.Body, &exLog)
	var gotLog struct {
		Path string `json:"path"`
	}
	mustUnmarshal(t, reqs[1].Body, &gotLog)
	if gotLog.Path != exLog.Path {
		t.Errorf("got log path %q, want the example's %q", gotLog.Path, exLog.Path)
	}

	noToken := plan
	noToken.AuthToken = ""
	if err := c.PostJobEvent(ctx, noToken, ado.JobEvent{Name: "TaskCompleted"}); err == nil ||
		!strings.Contains(err.Error(), "AuthToken") {
		t.Errorf("PostJobEvent without a plan token: got %v, want an error naming AuthToken", err)
	}
	if n := len(f.requests()); n != 4 {
		t.Errorf("a plan call without a token reached the server (%d requests)", n)
	}
}
