package checks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/checks"
	"github.com/adofleet/adofleet/internal/store"
)

const fuzzMaxBody = 4 << 10 // small, so that the fuzzer reaches the limit too

// memRequests is an in-memory checks.Requests that records every Put.
type memRequests struct {
	mu   sync.Mutex
	puts []checks.CheckRequest
	keys map[store.CallbackKey]bool
}

func (m *memRequests) Put(_ context.Context, r checks.CheckRequest) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.puts = append(m.puts, r)
	if m.keys == nil {
		m.keys = map[store.CallbackKey]bool{}
	}
	created := !m.keys[r.Key()]
	m.keys[r.Key()] = true
	return created, nil
}

func (m *memRequests) Pending(context.Context, string) ([]checks.CheckRequest, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.puts), nil
}

func (m *memRequests) Done(context.Context, store.CallbackKey, checks.Outcome) error { return nil }

// checkFields are the values a check sends, in the order the fuzz target takes them.
var checkFields = []string{"PlanUrl", "ProjectId", "HubName", "PlanId", "JobId", "TimelineId", "TaskInstanceId", "AuthToken"}

type fuzzAnswer struct {
	Status string `json:"status"`
	Errors *struct {
		Missing   []string          `json:"missing"`
		Malformed map[string]string `json:"malformed"`
	} `json:"errors"`
}

// FuzzCheckWebhook: an authenticated call with any headers and body is either accepted (200, one
// request recorded, one wake-up, a plan that passes the parser's own rules and reads back the
// same when sent again as headers alone) or refused (400 naming the fields, 413 for a body over
// the limit) with nothing recorded and nothing woken.
func FuzzCheckWebhook(f *testing.F) {
	valid := []string{"https://dev.azure.com/fabrikam/", "5c3d8a4e-1111-2222-3333-444455556666", "build",
		"0f1e2d3c-aaaa-bbbb-cccc-ddddeeeeffff", "12345678-abcd-ef01-2345-6789abcdef01", "t1", "task-1", "eyJhbGciOi.job-token"}
	f.Add([]byte(nil), valid[0], valid[1], valid[2], valid[3], valid[4], valid[5], valid[6], valid[7])
	body, _ := json.Marshal(map[string]string{"PlanUrl": valid[0], "projectid": valid[1], "HUBNAME": valid[2],
		"PlanId": valid[3], "JobId": valid[4], "TaskInstanceId": valid[6], "AuthToken": valid[7], "BuildId": "9"})
	f.Add(body, "", "", "", "", "", "", "", "")
	f.Add([]byte(`{"JobId": 7, "PlanUrl": "ftp://x"}`), valid[0], valid[1], valid[2], valid[3], "", "", valid[6], valid[7])
	f.Add([]byte(`{"TaskInstanceId":"$(system.TaskInstanceId)"}`), valid[0], valid[1], valid[2], valid[3], valid[4], "", "", valid[7])
	f.Add([]byte(`[1,2]`), valid[0], valid[1], valid[2], "../x", valid[4], "", valid[6], "a b")
	f.Add([]byte(strings.Repeat(" ", fuzzMaxBody+1)), valid[0], valid[1], valid[2], valid[3], valid[4], valid[5], valid[6], valid[7])
	f.Add([]byte("null"), "http://user:pw@host/", valid[1], valid[2], valid[3], valid[4], valid[5], valid[6], valid[7])
	f.Fuzz(func(t *testing.T, body []byte, planURL, projectID, hub, planID, jobID, timelineID, taskID, token string) {
		reqs := &memRequests{}
		var wakes []string
		h, err := checks.NewHandler(checks.Options{
			Auth: checks.Auth{Secret: testSecret}, Pool: checks.PoolSet(testPool), Requests: reqs,
			Wake: func(pool string) { wakes = append(wakes, pool) }, MaxBodyBytes: fuzzMaxBody,
			Now: func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) },
		})
		if err != nil {
			t.Fatal(err)
		}
		hdr := http.Header{}
		for i, v := range []string{planURL, projectID, hub, planID, jobID, timelineID, taskID, token} {
			if v != "" {
				hdr.Set(checkFields[i], v)
			}
		}
		code, ans := serveCheck(t, h, hdr, body)
		switch code {
		case http.StatusOK:
			if len(reqs.puts) != 1 || !slices.Equal(wakes, []string{testPool}) {
				t.Fatalf("accepted: got %d requests recorded and wake-ups %q, want 1 and [%s]", len(reqs.puts), wakes, testPool)
			}
			plan := reqs.puts[0].Plan
			checkPlan(t, plan)
			// The plan sent back as headers alone is accepted as the same request.
			again := http.Header{}
			for i, v := range []string{plan.PlanURL, plan.ProjectID, plan.HubName, plan.PlanID, plan.JobID, plan.TimelineID, plan.TaskInstanceID, plan.AuthToken} {
				if v != "" {
					again.Set(checkFields[i], v)
				}
			}
			if code, _ := serveCheck(t, h, again, nil); code != http.StatusOK {
				t.Fatalf("the accepted plan %+v sent again as headers: got %d, want 200", plan, code)
			}
			if diff := cmp.Diff(plan, reqs.puts[1].Plan); diff != "" {
				t.Fatalf("the accepted plan sent again reads differently (-first +again):\n%s", diff)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if len(reqs.puts) != 0 || len(wakes) != 0 {
				t.Fatalf("refused with %d: got %d requests recorded and %d wake-ups, want none", code, len(reqs.puts), len(wakes))
			}
			if ans.Status != "error" {
				t.Errorf("refused with %d: answer status %q, want error", code, ans.Status)
			}
			if code == http.StatusRequestEntityTooLarge {
				if len(body) <= fuzzMaxBody {
					t.Errorf("413 for a body of %d bytes, under the %d-byte limit", len(body), fuzzMaxBody)
				}
				return
			}
			if ans.Errors == nil || len(ans.Errors.Missing)+len(ans.Errors.Malformed) == 0 {
				t.Fatalf("400 names no field: %+v", ans)
			}
			named := append(slices.Clone(ans.Errors.Missing), "")
			for f := range ans.Errors.Malformed {
				named = append(named, f)
			}
			for _, f := range named {
				if f != "" && f != "body" && !slices.Contains(checkFields, f) {
					t.Errorf("400 names %q, not a check field", f)
				}
			}
		default:
			t.Fatalf("got status %d, want 200, 400 or 413", code)
		}
	})
}

// serveCheck posts to the handler in process, authenticated with the shared secret.
func serveCheck(t *testing.T, h http.Handler, hdr http.Header, body []byte) (int, fuzzAnswer) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/v1/checks/"+testPool, bytes.NewReader(body))
	for k, v := range hdr {
		r.Header[k] = v
	}
	r.Header.Set("X-Adofleet-Secret", testSecret)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var a fuzzAnswer
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %q", w.Code, err, w.Body.String())
	}
	return w.Code, a
}

// checkPlan asserts the rules an accepted plan must satisfy.
func checkPlan(t *testing.T, p ado.PlanRef) {
	t.Helper()
	u, err := url.Parse(p.PlanURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || !strings.HasSuffix(p.PlanURL, "/") {
		t.Errorf("accepted PlanURL %q: want an http(s) URL with a host, no user and a trailing slash", p.PlanURL)
	}
	for name, v := range map[string]string{"ProjectId": p.ProjectID, "HubName": p.HubName, "PlanId": p.PlanID,
		"JobId": p.JobID, "TaskInstanceId": p.TaskInstanceID, "TimelineId": p.TimelineID} {
		if v == "" && name != "TimelineId" {
			t.Errorf("accepted plan has no %s", name)
		}
		if strings.ContainsAny(v, "/?#\\%\r\n\t ") || strings.HasPrefix(v, "$(") {
			t.Errorf("accepted %s %q is not a single path segment", name, v)
		}
	}
	if p.AuthToken == "" || strings.ContainsAny(p.AuthToken, "\r\n \t") {
		t.Errorf("accepted AuthToken %q: want a non-empty token without white space", p.AuthToken)
	}
}
