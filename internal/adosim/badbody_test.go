package adosim_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/adosim"
)

// TestBadBodiesChangeNothing sends malformed bodies to every route that reads one: each answer is
// ADO's error shape with a message that says what was wrong, and the organization is unchanged.
func TestBadBodiesChangeNothing(t *testing.T) {
	t.Parallel()
	e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{})
	poolID := e.addPool(t, "p")
	a := e.connect(t, poolID, "agent-1", map[string]string{"docker": "1"})
	e.queue(t, "p", adosim.JobSpec{Demands: []string{"docker"}, Duration: time.Hour})
	jm := a.poll()
	if jm == nil {
		t.Fatal("the agent got no job")
	}
	plan := e.org.AddPlan(adosim.PlanSpec{HubName: "checks"})
	planURL := e.url + "/" + plan.ProjectID + "/_apis/distributedtask/hubs/checks/plans/" + plan.PlanID
	mustCall(t, http.StatusOK, "POST", planURL+"/logs", plan.Token, `{"path":"logs\\1"}`)
	mustCall(t, http.StatusOK, "POST", planURL+"/logs/1", plan.Token, "first line\n")

	agents, jobs := e.org.Agents("p"), e.org.Jobs()
	planBefore, _ := e.org.Plan(plan.PlanID)

	tooBig := `{"name":"` + strings.Repeat("x", 4<<20) + `"}`
	agentURL := e.poolURL(poolID) + "/agents/" + itoa(a.id)
	jobURL := e.poolURL(poolID) + "/jobrequests/" + itoa(int(jm.RequestID)) + "?lockToken=" + jm.LockToken
	tests := []struct {
		name, method, url, token, body string
		status                         int
		typeKey, msg                   string
	}{
		{"add agent, truncated JSON", "POST", e.poolURL(poolID) + "/agents", testPAT, `{"name":"agent-2","ver`,
			400, "VssRequestContentException", "could not be parsed: unexpected end of JSON input"},
		{"add agent, name is a number", "POST", e.poolURL(poolID) + "/agents", testPAT, `{"name":5}`,
			400, "VssRequestContentException", "cannot unmarshal number into Go struct field wireAgentIn.name of type string"},
		{"add agent, JSON null", "POST", e.poolURL(poolID) + "/agents", testPAT, "null",
			400, "ArgumentNullException", "Parameter name: body"},
		{"add agent, body too large", "POST", e.poolURL(poolID) + "/agents", testPAT, tooBig,
			413, "VssRequestContentException", "larger than 4 MiB"},
		{"replace agent, HTML", "PUT", agentURL, testPAT, "<html><body>Sign in</body></html>",
			400, "VssRequestContentException", "invalid character '<' looking for beginning of value"},
		{"disable agent, enabled is a string", "PATCH", agentURL, testPAT, `{"id":` + itoa(a.id) + `,"enabled":"no"}`,
			400, "VssRequestContentException", "wireAgentIn.enabled of type bool"},
		{"disable agent, JSON null", "PATCH", agentURL, testPAT, "null",
			400, "ArgumentNullException", "Parameter name: body"},
		{"create session, truncated JSON", "POST", e.poolURL(poolID) + "/sessions", testPAT, `{"agent":{"id":`,
			400, "VssRequestContentException", "unexpected end of JSON input"},
		{"finish job, result is a number", "PATCH", jobURL, testPAT, `{"requestId":1,"result":1}`,
			400, "VssRequestContentException", "result"},
		{"finish job, JSON null", "PATCH", jobURL, testPAT, "null",
			400, "ArgumentNullException", "Parameter name: body"},
		{"post event, HTML", "POST", planURL + "/events", plan.Token, "<!DOCTYPE html><html></html>",
			400, "VssRequestContentException", "invalid character '<'"},
		{"append feed, value is not a list", "POST", planURL + "/timelines/t/records/r/feed", plan.Token, `{"value":"line"}`,
			400, "VssRequestContentException", "value"},
		{"append log, body too large", "POST", planURL + "/logs/1", plan.Token, strings.Repeat("line\n", 1<<20),
			413, "VssRequestContentException", "larger than 4 MiB"},
	}
	for _, tc := range tests {
		r := call(t, tc.method, tc.url, tc.token, tc.body)
		var got struct {
			TypeKey string `json:"typeKey"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Errorf("%s: answer %q is not ADO's JSON error: %v", tc.name, r.body, err)
			continue
		}
		if r.status != tc.status || got.TypeKey != tc.typeKey || !strings.Contains(got.Message, tc.msg) {
			t.Errorf("%s: got %d %s %q, want %d %s with a message containing %q",
				tc.name, r.status, got.TypeKey, got.Message, tc.status, tc.typeKey, tc.msg)
		}
	}

	if diff := cmp.Diff(agents, e.org.Agents("p")); diff != "" {
		t.Errorf("agents changed by bad requests (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(jobs, e.org.Jobs()); diff != "" {
		t.Errorf("jobs changed by bad requests (-before +after):\n%s", diff)
	}
	planAfter, _ := e.org.Plan(plan.PlanID)
	if diff := cmp.Diff(planBefore, planAfter); diff != "" {
		t.Errorf("plan changed by bad requests (-before +after):\n%s", diff)
	}
	// The job is still the agent's to finish with a good body.
	if r := a.finish(jm, "succeeded"); r.status != http.StatusOK {
		t.Errorf("finishing the job after the bad requests: status %d: %s", r.status, r.body)
	}
}

// mustCall sends a raw body and fails the test unless the status is want.
func mustCall(t *testing.T, want int, method, url, token, body string) {
	t.Helper()
	if r := call(t, method, url, token, body); r.status != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, url, r.status, want, r.body)
	}
}
