package servicehooks_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/fuzzseed"
	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/notify/notifytest"
	"github.com/adofleet/adofleet/internal/servicehooks"
)

const fuzzMaxBody = 8 << 10 // small, so that the fuzzer reaches the limit too

type fuzzAnswer struct {
	Status    string `json:"status"`
	Message   string `json:"message"`
	Published int    `json:"published"`
	Error     *struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"error"`
}

// FuzzServiceHook: an authenticated delivery with any body is published (200: each event a run
// notification with its pipeline, run id and dedup key, the same again on redelivery), ignored
// (202: nothing published; a waiting job may wake the pools) or refused (400 naming the field,
// 413 over the limit) with nothing published and nothing woken.
func FuzzServiceHook(f *testing.F) {
	fuzzseed.Files(f, func(data []byte) { f.Add(data) }, filepath.Join("testdata", "*.json"))
	for _, s := range []string{
		``, `null`, `[]`, `{"eventType":""}`, `{"eventType":"build.complete","resource":null}`,
		`{"eventType":"build.complete","resource":{"id":1,"definition":{"name":"d"},"result":"failed","startTime":"yesterday"}}`,
		`{"eventType":"ms.vss-pipelines.run-state-changed-event","resource":{"run":{"id":"1","state":"completed"}}}`,
		`{"eventType":"ms.vss-pipelines.job-state-changed-event","resource":{"job":{"state":"waiting"}}}`,
		`{"eventType":"git.push","resource":{}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := &notifytest.Recorder{}
		wakes := 0
		h, err := servicehooks.NewHandler(servicehooks.Options{
			Auth: servicehooks.Auth{Secret: hookSecret}, Events: rec, Account: "123456789012", Region: "eu-west-1",
			Wake: func(string) { wakes++ }, MaxBodyBytes: fuzzMaxBody, Now: func() time.Time { return testNow },
		})
		if err != nil {
			t.Fatal(err)
		}
		code, ans := deliver(t, h, body)
		events := rec.Events()
		switch code {
		case http.StatusOK:
			if len(events) == 0 || ans.Published != len(events) {
				t.Fatalf("200 with %d events published, answer says %d", len(events), ans.Published)
			}
			for _, e := range events {
				checkEvent(t, e)
			}
			if wakes != 0 {
				t.Errorf("a published event woke the pools %d times", wakes)
			}
			// A redelivery (ADO retries) is the same notification: the outbox drops it by key.
			if code, _ := deliver(t, h, body); code != http.StatusOK {
				t.Fatalf("redelivery: got %d, want 200", code)
			}
			if diff := cmp.Diff(events, rec.Events()[len(events):]); diff != "" {
				t.Fatalf("redelivery published other events (-first +again):\n%s", diff)
			}
		case http.StatusAccepted:
			if len(events) != 0 || wakes > 1 || ans.Status != "ignored" {
				t.Fatalf("202: got %d events published, %d wake-ups and status %q, want none, at most 1 and ignored", len(events), wakes, ans.Status)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if len(events) != 0 || wakes != 0 {
				t.Fatalf("refused with %d: got %d events published and %d wake-ups, want none", code, len(events), wakes)
			}
			if code == http.StatusRequestEntityTooLarge {
				if len(body) <= fuzzMaxBody {
					t.Errorf("413 for a body of %d bytes, under the %d-byte limit", len(body), fuzzMaxBody)
				}
				return
			}
			if ans.Error == nil || ans.Error.Field == "" || ans.Error.Message == "" {
				t.Fatalf("400 names no field: %+v", ans)
			}
			if !strings.HasPrefix(ans.Message, "malformed service hook event: "+ans.Error.Field+": ") {
				t.Errorf("400 message %q does not lead with the field %q", ans.Message, ans.Error.Field)
			}
		default:
			t.Fatalf("got status %d, want 200, 202, 400 or 413", code)
		}
	})
}

// deliver posts body to the handler in process, with the shared secret.
func deliver(t *testing.T, h http.Handler, body []byte) (int, fuzzAnswer) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, servicehooks.Path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Adofleet-Secret", hookSecret)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var a fuzzAnswer
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %q", w.Code, err, w.Body.String())
	}
	return w.Code, a
}

// checkEvent asserts what every published notification carries.
func checkEvent(t *testing.T, e notify.Event) {
	t.Helper()
	switch e.Type {
	case notify.RunCompleted, notify.RunStageFailed, notify.RunJobFailed:
	default:
		t.Errorf("published event type %q, want a run event", e.Type)
	}
	if e.Fields["pipeline"] == "" || e.Summary == "" || e.Time.IsZero() {
		t.Errorf("event %+v lacks its pipeline, summary or time", e)
	}
	if id, err := strconv.ParseInt(e.Fields["runId"], 10, 64); err != nil || id <= 0 {
		t.Errorf("event runId %q is not a positive number", e.Fields["runId"])
	}
	if !strings.HasPrefix(e.DedupKey, string(e.Type)+"/") || !strings.HasSuffix(e.DedupKey, "/"+e.Fields["runId"]) &&
		!strings.Contains(e.DedupKey, "/"+e.Fields["runId"]+"/") {
		t.Errorf("event dedup key %q does not name its type and run %s", e.DedupKey, e.Fields["runId"])
	}
	if e.Fields["account"] != "123456789012" || e.Fields["region"] != "eu-west-1" {
		t.Errorf("event account/region %q/%q, want the configured ones", e.Fields["account"], e.Fields["region"])
	}
}
