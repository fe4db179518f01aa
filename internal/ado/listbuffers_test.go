package ado_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/adofleet/adofleet/internal/ado"
)

// truncatedList keeps the first n rows of an ADO list body.
func truncatedList(t *testing.T, body []byte, n int) []byte {
	t.Helper()
	var l struct {
		Count int               `json:"count"`
		Value []json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatalf("testdata: %v", err)
	}
	l.Value = l.Value[:min(n, len(l.Value))]
	l.Count = len(l.Value)
	out, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestListsIntoBuffersMatchFreshLists lists through one ListBuffers again and again, with the
// answers growing and shrinking: every list equals what the plain call returns for the same
// answer, so nothing of an earlier, longer list shows through, and Reset keeps nothing.
func TestListsIntoBuffersMatchFreshLists(t *testing.T) {
	jobs, agents := readTestdata(t, "jobrequests_unfinished.json"), readTestdata(t, "agents.json")
	var rows atomic.Int64 // rows of the next answers
	f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		body := agents
		if strings.HasSuffix(r.URL.Path, "/jobrequests") {
			body = jobs
		}
		writeJSON(w, http.StatusOK, truncatedList(t, body, int(rows.Load())))
	})
	c := newClient(t, f, nil)
	ctx := t.Context()
	var b ado.ListBuffers
	for _, n := range []int{100, 1, 3, 0, 100} {
		rows.Store(int64(n))
		wantJobs, err := c.ListJobRequests(ctx, 1)
		if err != nil {
			t.Fatalf("ListJobRequests: %v", err)
		}
		gotJobs, err := c.ListJobRequestsInto(ctx, &b, 1)
		if err != nil {
			t.Fatalf("ListJobRequestsInto: %v", err)
		}
		opts := ado.AgentListOptions{AssignedRequest: true, LastCompletedRequest: true}
		wantAgents, err := c.ListAgentsWith(ctx, 1, opts)
		if err != nil {
			t.Fatalf("ListAgentsWith: %v", err)
		}
		gotAgents, err := c.ListAgentsInto(ctx, &b, 1, opts)
		if err != nil {
			t.Fatalf("ListAgentsInto: %v", err)
		}
		if n > 0 && (len(wantJobs) == 0 || len(wantAgents) == 0) {
			t.Fatalf("%d rows: the testdata gave %d jobs and %d agents; the test needs some of each", n, len(wantJobs), len(wantAgents))
		}
		if diff := cmp.Diff(wantJobs, gotJobs, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%d rows: job requests through the buffers differ (-fresh +buffers):\n%s", n, diff)
		}
		if diff := cmp.Diff(wantAgents, gotAgents, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%d rows: agents through the buffers differ (-fresh +buffers):\n%s", n, diff)
		}
		if n == 3 {
			b.Reset()
			if gotJobs[0].RequestID != 0 || gotAgents[0].Name != "" || gotAgents[0].LastCompleted != nil {
				t.Errorf("Reset left the last lists' rows in place: job %+v, agent %+v", gotJobs[0], gotAgents[0])
			}
		}
	}
}
