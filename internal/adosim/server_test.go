package adosim_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/adosim"
)

func TestPoolsListByName(t *testing.T) {
	t.Parallel()
	e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{})
	e.addPool(t, "Default")
	id := e.addPool(t, "linux")
	var got collection[struct {
		ID       int    `json:"id"`
		Name     string `json:"name"`
		PoolType string `json:"poolType"`
	}]
	mustJSON(t, http.StatusOK, "GET", e.url+"/_apis/distributedtask/pools?poolName=LINUX&api-version=7.1", nil, &got)
	if got.Count != 1 || len(got.Value) != 1 || got.Value[0].ID != id || got.Value[0].PoolType != "automation" {
		t.Fatalf("pools?poolName=LINUX = %+v, want the one pool %d", got, id)
	}
	mustJSON(t, http.StatusOK, "GET", e.url+"/_apis/distributedtask/pools?poolName=nope", nil, &got)
	if got.Count != 0 || got.Value == nil {
		t.Fatalf("unknown pool name: got %+v, want count 0 and an empty (not null) value", got)
	}
}

func TestAgentsCRUD(t *testing.T) {
	t.Parallel()
	e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{})
	poolID := e.addPool(t, "p")
	a := e.register(t, poolID, "agent-1", map[string]string{"docker": "1"})

	r := call(t, "POST", e.poolURL(poolID)+"/agents", testPAT, map[string]any{"name": "AGENT-1"})
	if r.status != http.StatusConflict {
		t.Fatalf("POST duplicate name: status %d, want 409; body %s", r.status, r.body)
	}

	var plain agentJSON
	mustJSON(t, http.StatusOK, "GET", e.poolURL(poolID)+"/agents/"+itoa(a.id), nil, &plain)
	if plain.SystemCapabilities != nil || plain.Status != "offline" || !plain.Enabled {
		t.Fatalf("GET agent without flags = %+v, want no capabilities, offline, enabled", plain)
	}
	var list collection[agentJSON]
	mustJSON(t, http.StatusOK, "GET", e.poolURL(poolID)+"/agents?includeCapabilities=true&includeAssignedRequest=true", nil, &list)
	if list.Count != 1 || list.Value[0].SystemCapabilities["docker"] != "1" {
		t.Fatalf("GET agents?includeCapabilities=true = %+v, want docker capability", list)
	}

	var patched agentJSON
	mustJSON(t, http.StatusOK, "PATCH", e.poolURL(poolID)+"/agents/"+itoa(a.id), map[string]any{"id": a.id, "enabled": false}, &patched)
	if patched.Enabled {
		t.Fatalf("PATCH enabled=false answered enabled=true")
	}
	if got := e.org.Agents("p")[0].Enabled; got {
		t.Fatalf("agent still enabled after PATCH")
	}

	mustJSON(t, http.StatusNoContent, "DELETE", e.poolURL(poolID)+"/agents/"+itoa(a.id), nil, nil)
	r = call(t, "GET", e.poolURL(poolID)+"/agents/"+itoa(a.id), testPAT, nil)
	if r.status != http.StatusNotFound {
		t.Fatalf("GET deleted agent: status %d, want 404", r.status)
	}
	r = call(t, "DELETE", e.poolURL(poolID)+"/agents/"+itoa(a.id), testPAT, nil)
	if r.status != http.StatusNotFound {
		t.Fatalf("DELETE deleted agent: status %d, want 404", r.status)
	}
}

func TestErrorsHaveADOShape(t *testing.T) {
	t.Parallel()
	e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{})
	poolID := e.addPool(t, "p")
	tests := []struct {
		name, method, path string
		body               any
		status             int
		typeKey            string
	}{
		{"missing pool", "GET", "/_apis/distributedtask/pools/999/agents", nil, 404, "TaskAgentPoolNotFoundException"},
		{"missing agent", "GET", "/_apis/distributedtask/pools/" + itoa(poolID) + "/agents/77", nil, 404, "TaskAgentNotFoundException"},
		{"bad json", "POST", "/_apis/distributedtask/pools/" + itoa(poolID) + "/agents", "{not json", 400, "VssRequestContentException"},
		{"empty body", "PATCH", "/_apis/distributedtask/pools/" + itoa(poolID) + "/agents/1", "", 400, "ArgumentNullException"},
		{"bad flag", "GET", "/_apis/distributedtask/pools/" + itoa(poolID) + "/agents?includeCapabilities=maybe", nil, 400, "ArgumentException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, tc.method, e.url+tc.path, testPAT, tc.body)
			var got map[string]any
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatalf("body %q is not JSON: %v", r.body, err)
			}
			if r.status != tc.status || got["typeKey"] != tc.typeKey {
				t.Fatalf("got status %d typeKey %v, want %d %s", r.status, got["typeKey"], tc.status, tc.typeKey)
			}
			for _, k := range []string{"$id", "innerException", "message", "typeName", "typeKey", "errorCode", "eventId"} {
				if _, ok := got[k]; !ok {
					t.Errorf("error body lacks %q: %s", k, r.body)
				}
			}
		})
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{BearerTokens: []string{"aad-token"}})
	e.addPool(t, "p")
	pools := e.url + "/_apis/distributedtask/pools"
	tests := []struct {
		name   string
		header string
		want   int
	}{
		{"no credential", "", 401},
		{"wrong PAT", "basic", 401},
		{"PAT as basic", "good-basic", 200},
		{"PAT as bearer", "Bearer " + testPAT, 200},
		{"extra bearer token", "Bearer aad-token", 200},
		{"unknown bearer", "Bearer nope", 401},
		{"unknown scheme", "Digest abc", 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", pools, nil)
			switch tc.header {
			case "basic":
				req.SetBasicAuth("me", "wrong")
			case "good-basic":
				req.SetBasicAuth("", testPAT)
			case "":
			default:
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == 401 {
				var body struct{ TypeKey string }
				_ = json.NewDecoder(resp.Body).Decode(&body)
				if body.TypeKey != "UnauthorizedRequestException" || resp.Header.Get("WWW-Authenticate") == "" {
					t.Fatalf("401 body typeKey %q, WWW-Authenticate %q", body.TypeKey, resp.Header.Get("WWW-Authenticate"))
				}
			}
		})
	}
	r := call(t, "GET", e.url+"x/_apis/distributedtask/pools", testPAT, nil)
	if r.status != http.StatusNotFound {
		t.Fatalf("wrong org name: status %d, want 404", r.status)
	}
}

func TestFaultInjection(t *testing.T) {
	t.Parallel()
	e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{})
	e.addPool(t, "p")
	e.srv.SetFaults(adosim.FailFirst(2, *adosim.RateLimited(3 * time.Second), nil))
	url := e.url + "/_apis/distributedtask/pools"
	for i := range 2 {
		r := call(t, "GET", url, testPAT, nil)
		if r.status != http.StatusTooManyRequests {
			t.Fatalf("call %d: status %d, want 429", i, r.status)
		}
		for _, h := range []string{"Retry-After", "X-RateLimit-Resource", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
			if r.header.Get(h) == "" {
				t.Errorf("call %d: header %s missing", i, h)
			}
		}
		if got := r.header.Get("Retry-After"); got != "3" {
			t.Errorf("Retry-After = %q, want 3", got)
		}
	}
	if r := call(t, "GET", url, testPAT, nil); r.status != http.StatusOK {
		t.Fatalf("after the faults: status %d, want 200", r.status)
	}
	e.srv.SetFaults(adosim.FailFirst(1, adosim.Fault{Status: 503}, nil))
	if r := call(t, "GET", url, testPAT, nil); r.status != http.StatusServiceUnavailable {
		t.Fatalf("503 fault: status %d", r.status)
	}
	calls := e.srv.Calls()
	if got := calls["GET /{org}/_apis/distributedtask/pools"]; got != 4 {
		t.Fatalf("Calls()[pools] = %d, want 4 (all: %v)", got, calls)
	}
}

func TestJobRequestsListQuirks(t *testing.T) {
	t.Parallel()
	e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{})
	poolID := e.addPool(t, "p")
	// An offline placeholder keeps docker jobs queued; "gpu" jobs fail at once (finished rows).
	if _, err := e.org.AddAgent("p", adosim.AgentSpec{Name: "placeholder", SystemCapabilities: map[string]string{"docker": "1"}}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		e.queue(t, "p", adosim.JobSpec{Demands: []string{"gpu"}})
	}
	for range 230 {
		e.queue(t, "p", adosim.JobSpec{Demands: []string{"docker"}})
	}
	base := e.poolURL(poolID) + "/jobrequests"

	var all collection[jobJSON]
	mustJSON(t, http.StatusOK, "GET", base, nil, &all)
	if all.Count != adosim.MaxJobRequestRows || len(all.Value) != adosim.MaxJobRequestRows {
		t.Fatalf("plain list: %d rows, want the cap %d", len(all.Value), adosim.MaxJobRequestRows)
	}
	if all.Value[0].RequestID != 235 {
		t.Fatalf("first row %d, want the newest (235)", all.Value[0].RequestID)
	}
	if m := all.Value[0].MatchedAgents; m == nil || len(*m) != 1 || (*m)[0].Name != "placeholder" {
		t.Fatalf("plain list: matchedAgents = %v, want the placeholder", m)
	}

	var top collection[jobJSON]
	mustJSON(t, http.StatusOK, "GET", base+"?$top=10", nil, &top)
	if len(top.Value) != 10 {
		t.Fatalf("$top=10: %d rows", len(top.Value))
	}
	for _, j := range top.Value {
		if j.MatchedAgents != nil {
			t.Fatalf("$top: row %d has matchedAgents", j.RequestID)
		}
	}
	mustJSON(t, http.StatusOK, "GET", base+"?$top=250", nil, &top)
	if len(top.Value) != adosim.MaxJobRequestRows {
		t.Fatalf("$top=250: %d rows, want the cap %d", len(top.Value), adosim.MaxJobRequestRows)
	}

	var open collection[jobJSON]
	mustJSON(t, http.StatusOK, "GET", base+"?completedRequestCount=0&$top=1000", nil, &open)
	for _, j := range open.Value {
		if j.Result != nil {
			t.Fatalf("completedRequestCount=0 returned finished request %d", j.RequestID)
		}
	}
	var finished collection[jobJSON]
	mustJSON(t, http.StatusOK, "GET", e.poolURL(poolID)+"/jobrequests?completedRequestCount=2", nil, &finished)
	nFinished := 0
	for _, j := range finished.Value {
		if j.Result != nil {
			nFinished++
		}
	}
	if nFinished != 0 {
		// The 200 newest rows are all unfinished docker jobs: the finished ones fall past the cap.
		t.Fatalf("completedRequestCount=2: %d finished rows within the cap, want 0", nFinished)
	}
}

func TestJobRequestsKeepsFinishedWithinCount(t *testing.T) {
	t.Parallel()
	e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{})
	poolID := e.addPool(t, "p")
	for range 4 {
		e.queue(t, "p", adosim.JobSpec{Demands: []string{"gpu"}}) // fail at once
	}
	var got collection[jobJSON]
	mustJSON(t, http.StatusOK, "GET", e.poolURL(poolID)+"/jobrequests?completedRequestCount=3", nil, &got)
	var ids []int64
	for _, j := range got.Value {
		ids = append(ids, j.RequestID)
	}
	if diff := cmp.Diff([]int64{4, 3, 2}, ids); diff != "" {
		t.Fatalf("completedRequestCount=3 rows (-want +got):\n%s", diff)
	}
}
