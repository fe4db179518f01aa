package checks_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/checks"
	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/notify/notifytest"
)

// postFails is the real client whose job-event posts fail, as when ADO refuses the plan token.
type postFails struct{ checks.ADO }

func (postFails) PostJobEvent(context.Context, ado.PlanRef, ado.JobEvent) error {
	return errors.New("ado: post job event: HTTP 401")
}

func (e *env) recordingCallbacker(t *testing.T, client checks.ADO, timeout time.Duration) (*checks.Callbacker, *notifytest.Recorder) {
	t.Helper()
	rec := &notifytest.Recorder{}
	cb, err := checks.NewCallbacker(checks.CallbackerOptions{
		Requests: e.reqs, Claims: e.store, ADO: client, Timeout: timeout, Now: e.clock.Now, Events: rec,
	})
	if err != nil {
		t.Fatal(err)
	}
	return cb, rec
}

// fields are the event parts the tests compare exactly.
type fields struct {
	Type   notify.EventType
	Pool   string
	Fields map[string]string
}

func fieldsOf(es []notify.Event) []fields {
	var out []fields
	for _, e := range es {
		out = append(out, fields{e.Type, e.Pool, e.Fields})
	}
	return out
}

func TestCheckCallbackFailedEvents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		postFails  bool
		act        func(t *testing.T, e *env, cb *checks.Callbacker, key checks.CheckRequest)
		wantReason string
	}{
		{
			name: "timeout with no agent",
			act: func(t *testing.T, e *env, cb *checks.Callbacker, _ checks.CheckRequest) {
				e.clock.Advance(10 * time.Minute)
				runOnce(t, cb)
			},
			wantReason: "no agent came online in pool linux within 10m0s",
		},
		{
			name: "launch failed for good",
			act: func(t *testing.T, _ *env, cb *checks.Callbacker, r checks.CheckRequest) {
				if ok, err := cb.Fail(context.Background(), r.Key(), "adofleet cannot start agents for pool linux: bad image"); !ok || err != nil {
					t.Fatalf("Fail: %v, %v", ok, err)
				}
			},
			wantReason: "adofleet cannot start agents for pool linux: bad image",
		},
		{
			name:      "post failed",
			postFails: true,
			act: func(t *testing.T, e *env, cb *checks.Callbacker, _ checks.CheckRequest) {
				e.startAgents(t, "jit", 1)
				_ = cb.RunOnce(context.Background())
			},
			wantReason: "agent jit-0 is online in pool linux; posting the callback failed: ado: post job event: HTTP 401",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			p := e.check(t)
			var client checks.ADO = e.client
			if tt.postFails {
				client = postFails{e.client}
			}
			cb, rec := e.recordingCallbacker(t, client, 10*time.Minute)
			tt.act(t, e, cb, checks.CheckRequest{Plan: e.planRef(p)})
			runOnce(t, cb) // nothing is left pending, so nothing more is published

			want := []fields{{
				Type: notify.CheckCallbackFailed, Pool: testPool,
				Fields: map[string]string{"planId": p.PlanID, "jobId": p.JobID, "reason": tt.wantReason},
			}}
			got := rec.Events()
			if diff := cmp.Diff(want, fieldsOf(got)); diff != "" {
				t.Fatalf("events (-want +got):\n%s", diff)
			}
			if got[0].Severity != notify.SeverityError || !strings.Contains(got[0].Summary, p.PlanID) {
				t.Errorf("severity %q summary %q, want error naming the plan", got[0].Severity, got[0].Summary)
			}
		})
	}
}

func TestCheckReleasedPublishesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.check(t)
	cb, rec := e.recordingCallbacker(t, e.client, time.Hour)
	e.startAgents(t, "jit", 1)
	runOnce(t, cb)
	runOnce(t, cb)
	if got := rec.Events(); len(got) != 0 {
		t.Errorf("events for a released check: %+v, want none", got)
	}
}
