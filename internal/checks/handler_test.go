package checks_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/checks"
)

func pendingCount(t *testing.T, e *env) int {
	t.Helper()
	got, err := e.reqs.Pending(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return len(got)
}

func TestCheckBadBodiesAre400AndRecordNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.org.AddPlan(adosim.PlanSpec{})
	full := e.headers(p)
	without := func(names ...string) map[string]string {
		h := map[string]string{}
		for k, v := range full {
			h[k] = v
		}
		for _, n := range names {
			delete(h, n)
		}
		return h
	}
	tests := []struct {
		name          string
		headers       map[string]string
		body          string
		wantMissing   []string
		wantMalformed []string
	}{
		{name: "nothing", wantMissing: []string{"PlanUrl", "ProjectId", "HubName", "PlanId", "JobId", "TaskInstanceId", "AuthToken"}},
		{name: "partial headers", headers: without("JobId", "AuthToken"), wantMissing: []string{"JobId", "AuthToken"}},
		{name: "partial body", body: `{"PlanUrl":"` + e.simURL + `/","planid":"` + p.PlanID + `"}`,
			wantMissing: []string{"ProjectId", "HubName", "JobId", "TaskInstanceId", "AuthToken"}},
		{name: "not JSON", headers: full, body: `PlanId=1`, wantMalformed: []string{"body"}},
		{name: "bad URL and unexpanded variable", headers: without("PlanUrl", "TaskInstanceId"),
			body:          `{"PlanUrl":"ftp://x","TaskInstanceId":"$(system.TaskInstanceId)"}`,
			wantMalformed: []string{"PlanUrl", "TaskInstanceId"}},
		{name: "non-string value", headers: without("JobId"), body: `{"JobId": 7}`, wantMalformed: []string{"JobId"}, wantMissing: []string{"JobId"}},
		{name: "id with a slash", headers: without("PlanId"), body: `{"PlanId":"../x"}`, wantMalformed: []string{"PlanId"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, e.url, tt.headers, tt.body, nil)
			if r.code != http.StatusBadRequest {
				t.Fatalf("status: got %d, want 400", r.code)
			}
			if diff := cmp.Diff(tt.wantMissing, r.body.Errors.Missing); diff != "" {
				t.Errorf("missing fields (-want +got):\n%s", diff)
			}
			var malformed []string
			for _, f := range []string{"body", "PlanUrl", "ProjectId", "HubName", "PlanId", "JobId", "TaskInstanceId", "AuthToken"} {
				if _, ok := r.body.Errors.Malformed[f]; ok {
					malformed = append(malformed, f)
				}
			}
			if diff := cmp.Diff(tt.wantMalformed, malformed); diff != "" {
				t.Errorf("malformed fields (-want +got):\n%s", diff)
			}
		})
	}
	if got := pendingCount(t, e); got != 0 {
		t.Errorf("pending requests after bad calls: got %d, want 0", got)
	}
	if got := e.wakeCount(); len(got) != 0 {
		t.Errorf("wakes after bad calls: got %v, want none", got)
	}
}

func TestCheckAuthentication(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		auth func(*http.Request)
		want int
	}{
		{"no credentials", func(*http.Request) {}, http.StatusUnauthorized},
		{"wrong password", func(r *http.Request) { r.SetBasicAuth(testUser, testPass+"x") }, http.StatusUnauthorized},
		{"wrong user", func(r *http.Request) { r.SetBasicAuth("other", testPass) }, http.StatusUnauthorized},
		{"wrong secret", func(r *http.Request) { r.Header.Set(checks.DefaultSecretHeader, "nope") }, http.StatusUnauthorized},
		{"secret prefix", func(r *http.Request) { r.Header.Set(checks.DefaultSecretHeader, testSecret[:5]) }, http.StatusUnauthorized},
		{"PAT as bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+testPass) }, http.StatusUnauthorized},
		{"basic credentials", func(r *http.Request) { r.SetBasicAuth(testUser, testPass) }, http.StatusOK},
		{"shared secret", func(r *http.Request) { r.Header.Set(checks.DefaultSecretHeader, testSecret) }, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			p := e.org.AddPlan(adosim.PlanSpec{})
			r := post(t, e.url, e.headers(p), "", tt.auth)
			if r.code != tt.want {
				t.Fatalf("status: got %d, want %d", r.code, tt.want)
			}
			wantRecorded := 0
			if tt.want == http.StatusOK {
				wantRecorded = 1
			}
			if got := pendingCount(t, e); got != wantRecorded {
				t.Errorf("recorded requests: got %d, want %d", got, wantRecorded)
			}
			if got := len(e.wakeCount()); got != wantRecorded {
				t.Errorf("wakes: got %d, want %d", got, wantRecorded)
			}
		})
	}
}

func TestCheckUnknownPoolAndOversizedBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.org.AddPlan(adosim.PlanSpec{})
	if r := post(t, strings.Replace(e.url, testPool, "gpu", 1), e.headers(p), "", nil); r.code != http.StatusNotFound {
		t.Errorf("unknown pool: got %d, want 404", r.code)
	}
	big := `{"BuildId":"` + strings.Repeat("x", checks.DefaultMaxBodyBytes) + `"}`
	if r := post(t, e.url, e.headers(p), big, nil); r.code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: got %d, want 413", r.code)
	}
	if got := pendingCount(t, e); got != 0 {
		t.Errorf("recorded requests: got %d, want 0", got)
	}
}

func TestCheckRecordsOnceAndWakesThePool(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.org.AddPlan(adosim.PlanSpec{HubName: "build"})
	// The values in the body, as a user templates them, with a path in another case.
	body, _ := json.Marshal(map[string]string{
		"planUrl": e.simURL, "projectId": p.ProjectID, "hubName": p.HubName, "planId": p.PlanID, "jobId": p.JobID,
		"taskInstanceId": p.TaskInstanceID, "authToken": p.Token, "BuildId": "42",
	})
	url := strings.Replace(e.url, testPool, "LINUX", 1)
	for i := range 2 { // ADO may call again for the same task: still one request
		if r := post(t, url, nil, string(body), nil); r.code != http.StatusOK || r.body.Status != "accepted" {
			t.Fatalf("call %d: got %d %q, want 200 accepted", i, r.code, r.body.Status)
		}
	}
	got, err := e.reqs.Pending(context.Background(), testPool)
	if err != nil {
		t.Fatal(err)
	}
	want := []checks.CheckRequest{{Pool: testPool, ReceivedAt: e.clock.Now()}}
	want[0].Plan.PlanURL, want[0].Plan.ProjectID, want[0].Plan.HubName = e.simURL+"/", p.ProjectID, "build"
	want[0].Plan.PlanID, want[0].Plan.JobID, want[0].Plan.TaskInstanceID, want[0].Plan.AuthToken = p.PlanID, p.JobID, p.TaskInstanceID, p.Token
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pending (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{testPool, testPool}, e.wakeCount()); diff != "" {
		t.Errorf("wakes (-want +got):\n%s", diff)
	}
	by, err := checks.PendingByPool(context.Background(), e.reqs)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{testPool: 1}, by); diff != "" {
		t.Errorf("PendingByPool (-want +got):\n%s", diff)
	}
}

func TestNewHandlerRequiresAuth(t *testing.T) {
	t.Parallel()
	_, err := checks.NewHandler(checks.Options{Pool: checks.PoolSet("a"), Requests: &checks.StoreRequests{}})
	if err == nil {
		t.Fatal("NewHandler with no credentials and no secret: got nil error, want one")
	}
}
