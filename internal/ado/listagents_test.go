package ado_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/adosim"
)

// queryRecorder is a transport that keeps the query of every agents list it sends.
type queryRecorder struct {
	mu      sync.Mutex
	queries []url.Values
}

func (q *queryRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	q.mu.Lock()
	q.queries = append(q.queries, r.URL.Query())
	q.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// TestListAgentsWith: each option sends its include flag, or none, and the simulator (as ADO)
// embeds only the requests asked for: a busy agent listed without assigned requests shows none.
func TestListAgentsWith(t *testing.T) {
	t.Parallel()
	org := adosim.NewOrg(adosim.OrgOptions{Name: "fabrikam", Seed: 3})
	poolID, err := org.AddPool("linux")
	if err != nil {
		t.Fatal(err)
	}
	srv := adosim.NewServer(org, adosim.ServerOptions{PAT: testPAT})
	run, err := srv.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run.Close() })

	// One agent runs a job: it connects, and the job queued next is assigned to it.
	ac := adosim.NewAgentClient(run.URL, testPAT, nil, nil)
	ctx := t.Context()
	agentID, err := org.AddAgent("linux", adosim.AgentSpec{Name: "worker", SystemCapabilities: map[string]string{"docker": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ac.CreateSession(ctx, poolID, agentID, "worker"); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	reqID, err := org.QueueJob("linux", adosim.JobSpec{Demands: []string{"docker"}, Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if j, _ := org.Job(reqID); j.AgentID != agentID {
		t.Fatalf("job %d: got agent %d, want %d (the setup needs a busy agent)", reqID, j.AgentID, agentID)
	}

	rec := &queryRecorder{}
	c, err := ado.New(ado.Options{OrgURL: run.URL, PAT: testPAT, HTTPClient: &http.Client{Transport: rec}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		list         func() ([]ado.Agent, error)
		wantQuery    url.Values
		wantAssigned int64
	}{
		{"ListAgents", func() ([]ado.Agent, error) { return c.ListAgents(ctx, poolID) },
			url.Values{"includeAssignedRequest": {"true"}, "includeLastCompletedRequest": {"true"}, "api-version": {"7.1"}}, reqID},
		{"without assigned requests", func() ([]ado.Agent, error) {
			return c.ListAgentsWith(ctx, poolID, ado.AgentListOptions{LastCompletedRequest: true})
		}, url.Values{"includeLastCompletedRequest": {"true"}, "api-version": {"7.1"}}, 0},
		{"assigned only", func() ([]ado.Agent, error) {
			return c.ListAgentsWith(ctx, poolID, ado.AgentListOptions{AssignedRequest: true})
		}, url.Values{"includeAssignedRequest": {"true"}, "api-version": {"7.1"}}, reqID},
		{"neither", func() ([]ado.Agent, error) { return c.ListAgentsWith(ctx, poolID, ado.AgentListOptions{}) },
			url.Values{"api-version": {"7.1"}}, 0},
	}
	for _, tt := range tests {
		agents, err := tt.list()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		rec.mu.Lock()
		gotQuery := rec.queries[len(rec.queries)-1]
		rec.mu.Unlock()
		if diff := cmp.Diff(tt.wantQuery, gotQuery); diff != "" {
			t.Errorf("%s: query (-want +got):\n%s", tt.name, diff)
		}
		if len(agents) != 1 || agents[0].ID != agentID {
			t.Fatalf("%s: got %+v, want agent %d", tt.name, agents, agentID)
		}
		var gotAssigned int64
		if a := agents[0].AssignedRequest; a != nil {
			gotAssigned = a.RequestID
		}
		if gotAssigned != tt.wantAssigned {
			t.Errorf("%s: got assigned request %d, want %d", tt.name, gotAssigned, tt.wantAssigned)
		}
	}
}

// TestListsDoNotShareRows: the lists decode into recycled slices; a later answer must neither
// change the rows an earlier call returned nor inherit fields from them.
func TestListsDoNotShareRows(t *testing.T) {
	t.Parallel()
	bodies := []string{
		`{"count":1,"value":[{"requestId":1,"queueTime":"2026-11-24T09:00:00Z","assignTime":"2026-11-24T09:00:01Z",` +
			`"demands":["docker"],"reservedAgent":{"id":7,"name":"a"}}]}`,
		`{"count":1,"value":[{"requestId":2,"queueTime":"2026-11-24T09:05:00Z"}]}`,
	}
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		body := bodies[0]
		bodies = bodies[1:]
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, err := ado.New(ado.Options{OrgURL: srv.URL + "/fabrikam", PAT: testPAT})
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.ListJobRequests(t.Context(), 1)
	if err != nil {
		t.Fatalf("ListJobRequests: %v", err)
	}
	second, err := c.ListJobRequests(t.Context(), 1)
	if err != nil {
		t.Fatalf("ListJobRequests: %v", err)
	}
	type row struct {
		ID       int64
		Assigned bool
		Agent    int
		Demands  []string
	}
	summary := func(rows []ado.JobRequest) []row {
		var out []row
		for _, r := range rows {
			x := row{ID: r.RequestID, Assigned: r.AssignTime != nil, Demands: r.Demands}
			if r.ReservedAgent != nil {
				x.Agent = r.ReservedAgent.ID
			}
			out = append(out, x)
		}
		return out
	}
	want := [][]row{{{ID: 1, Assigned: true, Agent: 7, Demands: []string{"docker"}}}, {{ID: 2}}}
	if diff := cmp.Diff(want, [][]row{summary(first), summary(second)}); diff != "" {
		t.Errorf("the two lists (-want +got):\n%s", diff)
	}
}
