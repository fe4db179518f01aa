package ado_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/adofleet/adofleet/internal/ado"
)

// The bodies below are the testdata rows and agents repeated with fresh ids and names, so they
// keep ADO's shapes (capabilities, assigned requests, matchedAgents) at a pool's scale.

// list is ADO's {"count", "value"} envelope, decoded as the client decodes it.
type list[T any] struct {
	Count int `json:"count"`
	Value []T `json:"value"`
}

// scaledBody returns the testdata file's rows repeated to n, each passed through edit with its
// index, as a list body.
func scaledBody(b *testing.B, file string, n int, edit func(row map[string]any, i int)) []byte {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		b.Fatalf("read testdata: %v", err)
	}
	var src list[json.RawMessage]
	if err := json.Unmarshal(data, &src); err != nil {
		b.Fatalf("decode %s: %v", file, err)
	}
	rows := make([]map[string]any, n)
	for i := range rows {
		if err := json.Unmarshal(src.Value[i%len(src.Value)], &rows[i]); err != nil {
			b.Fatalf("decode %s row: %v", file, err)
		}
		edit(rows[i], i)
	}
	body, err := json.Marshal(list[map[string]any]{Count: n, Value: rows})
	if err != nil {
		b.Fatalf("encode body: %v", err)
	}
	return body
}

// jobRequestsBody is n unfinished rows (queued and running, alternating as in testdata), each
// listing matched agents, as ADO answers completedRequestCount=0 for a pool of that many agents.
func jobRequestsBody(b *testing.B, n, matched int) []byte {
	b.Helper()
	return scaledBody(b, "jobrequests_unfinished.json", n, func(row map[string]any, i int) {
		if _, done := row["result"]; done { // a finished row: queued instead, as this list has no finished rows
			for _, k := range []string{"assignTime", "receiveTime", "finishTime", "result"} {
				delete(row, k)
			}
		}
		row["requestId"] = 10_000 + i
		template := map[string]any{"id": 1, "name": "agent", "version": "4.255.0", "enabled": true,
			"status": "online", "provisioningState": "Provisioned"}
		if ms, ok := row["matchedAgents"].([]any); ok && len(ms) > 0 {
			template = ms[0].(map[string]any)
		}
		refs := make([]map[string]any, matched)
		for k := range refs {
			ref := make(map[string]any, len(template))
			for key, v := range template {
				ref[key] = v
			}
			ref["id"], ref["name"] = k+1, fmt.Sprintf("agent-%05d", k+1)
			refs[k] = ref
		}
		row["matchedAgents"] = refs
	})
}

// agentsBody is n agents, half busy with an assigned request, half idle with a last completed
// one: with capabilities from agents.json, without (as ADO answers ListAgents' query) from
// agents_list.json.
func agentsBody(b *testing.B, file string, n int) []byte {
	b.Helper()
	return scaledBody(b, file, n, func(row map[string]any, i int) {
		row["id"], row["name"] = i+1, fmt.Sprintf("agent-%05d", i+1)
	})
}

// BenchmarkDecodeJobRequests decodes one job-request list answer: 200 rows (ADO's row cap) with one
// matched agent each, and with 1,000 each (every row of a 1,000-agent pool whose agents all
// match, which is what ADO sends and what the controller never reads).
func BenchmarkDecodeJobRequests(b *testing.B) {
	for _, matched := range []int{1, 1_000} {
		b.Run(fmt.Sprintf("rows=200/matched=%d", matched), func(b *testing.B) {
			body := jobRequestsBody(b, ado.MaxJobRequestRows, matched)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var out list[ado.JobRequest]
				if err := json.Unmarshal(body, &out); err != nil || len(out.Value) != ado.MaxJobRequestRows {
					b.Fatalf("decode: got %d rows, %v; want %d", len(out.Value), err, ado.MaxJobRequestRows)
				}
			}
		})
	}
}

// BenchmarkDecodeAgents decodes one agent list answer of a 1,000-agent pool.
func BenchmarkDecodeAgents(b *testing.B) {
	body := agentsBody(b, "agents.json", 1_000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var out list[ado.Agent]
		if err := json.Unmarshal(body, &out); err != nil || len(out.Value) != 1_000 {
			b.Fatalf("decode: got %d agents, %v; want 1000", len(out.Value), err)
		}
	}
}

// BenchmarkClientList is the same two answers through the real client over loopback HTTP: the
// request, auth, metrics and body read on top of the decode.
func BenchmarkClientList(b *testing.B) {
	jobs := jobRequestsBody(b, ado.MaxJobRequestRows, 1)
	agents := agentsBody(b, "agents_list.json", 1_000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch filepath.Base(r.URL.Path) {
		case "jobrequests":
			_, _ = w.Write(jobs)
		case "agents":
			_, _ = w.Write(agents)
		default:
			http.NotFound(w, r)
		}
	}))
	b.Cleanup(srv.Close)
	client, err := ado.New(ado.Options{OrgURL: srv.URL + "/fabrikam", PAT: testPAT})
	if err != nil {
		b.Fatalf("ado.New: %v", err)
	}
	b.Run("ListJobRequests/rows=200/matched=1", func(b *testing.B) {
		b.SetBytes(int64(len(jobs)))
		b.ReportAllocs()
		for b.Loop() {
			got, err := client.ListJobRequests(b.Context(), 12)
			if err != nil || len(got) != ado.MaxJobRequestRows {
				b.Fatalf("ListJobRequests: got %d rows, %v; want %d", len(got), err, ado.MaxJobRequestRows)
			}
		}
	})
	b.Run("ListAgents/agents=1000", func(b *testing.B) {
		b.SetBytes(int64(len(agents)))
		b.ReportAllocs()
		for b.Loop() {
			got, err := client.ListAgents(b.Context(), 12)
			if err != nil || len(got) != 1_000 {
				b.Fatalf("ListAgents: got %d agents, %v; want 1000", len(got), err)
			}
		}
	})
}
