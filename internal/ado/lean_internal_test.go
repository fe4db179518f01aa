package ado

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestLeanJobRequestsMatchFullDecode: the rows ListJobRequests returns are the unfinished rows
// encoding/json decodes into the full JobRequest, on every field the list documents; the rest
// stay empty.
func TestLeanJobRequestsMatchFullDecode(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"jobrequests_unfinished.json", "jobrequests_top.json"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			var full listOf[JobRequest]
			if err := json.Unmarshal(data, &full); err != nil {
				t.Fatalf("json.Unmarshal: %v", err)
			}
			var want []JobRequest
			for _, r := range full.Value {
				if !r.Finished() {
					want = append(want, r)
				}
			}
			var lean listOf[leanJobRequest]
			if err := unmarshalBody(data, &lean); err != nil {
				t.Fatalf("unmarshalBody: %v", err)
			}
			got := jobRequests(nil, lean.Value)
			if len(want) == 0 {
				t.Fatalf("%s has no unfinished rows to compare", file)
			}
			undecoded := cmpopts.IgnoreFields(JobRequest{}, "FinishTime", "ServiceOwner", "HostID", "ScopeID",
				"PlanType", "PlanID", "JobID", "MatchedAgents", "LockedUntil", "Data")
			if diff := cmp.Diff(want, got, undecoded); diff != "" {
				t.Errorf("(-full decode +lean):\n%s", diff)
			}
			for i, r := range got {
				if r.PlanID != "" || r.JobID != "" || r.PlanType != "" || r.Data != nil || r.MatchedAgents != nil {
					t.Errorf("row %d: got undecoded fields set: %+v", i, r)
				}
			}
		})
	}
}

// TestOptTimeNull: null and absent leave an optTime unset, as they leave a *time.Time nil.
func TestOptTimeNull(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{}`, `{"assignTime":null}`, `{"assignTime":"2026-01-02T03:04:05.5Z"}`} {
		var got leanJobRequest
		if err := unmarshalBody([]byte(body), &got); err != nil {
			t.Fatalf("unmarshalBody(%s): %v", body, err)
		}
		var want struct {
			AssignTime *json.RawMessage `json:"assignTime"`
		}
		if err := json.Unmarshal([]byte(body), &want); err != nil {
			t.Fatal(err)
		}
		if got, want := got.AssignTime.Set, want.AssignTime != nil && string(*want.AssignTime) != "null"; got != want {
			t.Errorf("%s: got Set %v, want %v", body, got, want)
		}
	}
}

// A null after a repeated key clears the time the first set, as it clears a *time.Time.
func TestLeanNullAfterRepeatedKey(t *testing.T) {
	t.Parallel()
	body := []byte(`{"count":1,"value":[{"requestId":7,"queueTime":"2026-11-24T12:00:00Z",
		"assignTime":"2026-11-24T12:00:05Z","assignTime":null,"receiveTime":null,"receiveTime":"2026-11-24T12:00:09Z"}]}`)
	var full listOf[JobRequest]
	if err := json.Unmarshal(body, &full); err != nil {
		t.Fatalf("json.Unmarshal: %v", err)
	}
	var lean listOf[leanJobRequest]
	if err := unmarshalBody(body, &lean); err != nil {
		t.Fatalf("unmarshalBody: %v", err)
	}
	got := jobRequests(nil, lean.Value)
	if len(got) != 1 || (got[0].AssignTime == nil) != (full.Value[0].AssignTime == nil) ||
		got[0].ReceiveTime == nil || !got[0].ReceiveTime.Equal(*full.Value[0].ReceiveTime) {
		t.Errorf("lean %+v, want the full decode's times %+v", got, full.Value)
	}
}
