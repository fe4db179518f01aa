package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/adofleet/adofleet/internal/store"
)

// emptyIsNil: a list with nothing in it may come back nil or empty.
var emptyIsNil = cmpopts.EquateEmpty()

// checkReq is a fully populated pending check request; tests change what they need.
func checkReq(plan, pool string, at time.Time) store.CheckRequest {
	return store.CheckRequest{
		Key:        store.CallbackKey{PlanID: plan, JobID: "job-" + plan, TaskInstanceID: "task-" + plan},
		Pool:       pool,
		PlanURL:    "https://dev.azure.com/contoso/",
		ProjectID:  "project-1",
		HubName:    "checks",
		TimelineID: "timeline-" + plan,
		AuthToken:  "job-token-" + plan,
		ReceivedAt: at,
	}
}

func putCheck(t *testing.T, s store.Store, r store.CheckRequest) {
	t.Helper()
	created, err := s.PutCheckRequest(t.Context(), r)
	if err != nil || !created {
		t.Fatalf("PutCheckRequest(%+v): got %v, %v; want true, nil", r.Key, created, err)
	}
}

func pendingChecks(t *testing.T, s store.Store, pool string) []store.CheckRequest {
	t.Helper()
	got, err := s.PendingCheckRequests(t.Context(), pool)
	if err != nil {
		t.Fatalf("PendingCheckRequests(%q): %v", pool, err)
	}
	return got
}

func finishedChecks(t *testing.T, s store.Store, pool string) []store.FinishedCheck {
	t.Helper()
	got, err := s.FinishedCheckRequests(t.Context(), pool)
	if err != nil {
		t.Fatalf("FinishedCheckRequests(%q): %v", pool, err)
	}
	return got
}

func doneCheck(t *testing.T, s store.Store, key store.CallbackKey, o store.CheckOutcome) {
	t.Helper()
	if err := s.DoneCheckRequest(t.Context(), key, o); err != nil {
		t.Fatalf("DoneCheckRequest(%+v): %v", key, err)
	}
}

// finished is r as FinishedCheckRequests returns it after Done with o.
func finished(r store.CheckRequest, o store.CheckOutcome) store.FinishedCheck {
	r.AuthToken = ""
	return store.FinishedCheck{Request: r, Outcome: o}
}

// testCheckPutIdempotent: a second put of a key, pending or done, changes nothing and says so;
// keys that differ only in where a separator falls are different keys.
func testCheckPutIdempotent(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	r := checkReq("plan-1", "linux", base)
	putCheck(t, s, r)
	again := checkReq("plan-1", "windows", base.Add(time.Minute))
	again.AuthToken = "another-token"
	if created, err := s.PutCheckRequest(t.Context(), again); err != nil || created {
		t.Fatalf("second PutCheckRequest of one key: got %v, %v; want false, nil", created, err)
	}
	if diff := cmp.Diff([]store.CheckRequest{r}, pendingChecks(t, s, ""), emptyIsNil); diff != "" {
		t.Errorf("pending after a repeated put (-want +got):\n%s", diff)
	}
	o := store.CheckOutcome{Result: "succeeded", Reason: "agent a is online", Agent: "a", Sent: true, At: base.Add(time.Second)}
	doneCheck(t, s, r.Key, o)
	if created, err := s.PutCheckRequest(t.Context(), again); err != nil || created {
		t.Fatalf("PutCheckRequest of a done key: got %v, %v; want false, nil", created, err)
	}
	if got := pendingChecks(t, s, ""); len(got) != 0 {
		t.Errorf("pending after putting a done key again = %+v, want none", got)
	}
	if diff := cmp.Diff([]store.FinishedCheck{finished(r, o)}, finishedChecks(t, s, ""), emptyIsNil); diff != "" {
		t.Errorf("finished after putting a done key again (-want +got):\n%s", diff)
	}

	s2, _ := h.fresh(t)
	var want []store.CheckRequest
	for i, k := range []store.CallbackKey{
		{PlanID: "a|b", JobID: "c", TaskInstanceID: "d"},
		{PlanID: "a", JobID: "b|c", TaskInstanceID: "d"},
		{PlanID: "a#b", JobID: "c", TaskInstanceID: "d"},
		{PlanID: "a", JobID: "b#c", TaskInstanceID: "d"},
		{PlanID: "a", JobID: "b", TaskInstanceID: "c:d"},
	} {
		r := checkReq("p", "linux", base.Add(time.Duration(i)*time.Second))
		r.Key = k
		putCheck(t, s2, r)
		want = append(want, r)
	}
	if diff := cmp.Diff(want, pendingChecks(t, s2, "linux"), emptyIsNil); diff != "" {
		t.Errorf("pending requests of keys with separators (-want +got):\n%s", diff)
	}
}

func testCheckPutInvalid(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	for _, k := range []store.CallbackKey{
		{JobID: "j", TaskInstanceID: "t"}, {PlanID: "p", TaskInstanceID: "t"}, {PlanID: "p", JobID: "j"},
	} {
		r := checkReq("p", "linux", base)
		r.Key = k
		if created, err := s.PutCheckRequest(t.Context(), r); err == nil || created {
			t.Errorf("PutCheckRequest with key %+v: got %v, %v; want false and an error", k, created, err)
		}
	}
	if got := pendingChecks(t, s, ""); len(got) != 0 {
		t.Errorf("pending after invalid puts = %+v, want none", got)
	}
}

// testCheckPending: per pool (a pool whose name extends another's is another pool) and all,
// oldest first, whatever the order of the puts.
func testCheckPending(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	reqs := []store.CheckRequest{
		checkReq("p3", "linux", base.Add(3*time.Second)),
		checkReq("p1", "linux", base.Add(1*time.Second)),
		checkReq("p2", "lin", base.Add(2*time.Second)),
		checkReq("p0", "windows", base.Add(-time.Hour)), // before the others, by far
		checkReq("p4", "linux", base.Add(4*time.Second)),
	}
	for _, r := range reqs {
		putCheck(t, s, r)
	}
	for _, tc := range []struct {
		pool string
		want []store.CheckRequest
	}{
		{"linux", []store.CheckRequest{reqs[1], reqs[0], reqs[4]}},
		{"lin", []store.CheckRequest{reqs[2]}},
		{"windows", []store.CheckRequest{reqs[3]}},
		{"macos", nil},
		{"", []store.CheckRequest{reqs[3], reqs[1], reqs[2], reqs[0], reqs[4]}},
	} {
		if diff := cmp.Diff(tc.want, pendingChecks(t, s, tc.pool), emptyIsNil); diff != "" {
			t.Errorf("PendingCheckRequests(%q) (-want +got):\n%s", tc.pool, diff)
		}
	}
}

// testCheckDone: a done request leaves the pending list with its token forgotten; done again
// keeps the latest outcome; an unknown key is not an error and records nothing.
func testCheckDone(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	a, b := checkReq("pa", "linux", base), checkReq("pb", "linux", base.Add(time.Second))
	putCheck(t, s, a)
	putCheck(t, s, b)
	fail := store.CheckOutcome{Result: "failed", Reason: "no agent came online in pool linux within 10m0s", At: base.Add(10 * time.Minute)}
	doneCheck(t, s, a.Key, fail)
	if diff := cmp.Diff([]store.CheckRequest{b}, pendingChecks(t, s, "linux"), emptyIsNil); diff != "" {
		t.Errorf("pending after Done (-want +got):\n%s", diff)
	}
	got := finishedChecks(t, s, "linux")
	if diff := cmp.Diff([]store.FinishedCheck{finished(a, fail)}, got, emptyIsNil); diff != "" {
		t.Errorf("finished after Done (-want +got):\n%s", diff)
	}
	if len(got) == 1 && got[0].Request.AuthToken != "" {
		t.Error("a finished request still holds its job token")
	}
	again := store.CheckOutcome{Result: "failed", Reason: "claimed before", Sent: false, At: base.Add(11 * time.Minute)}
	doneCheck(t, s, a.Key, again)
	if diff := cmp.Diff([]store.FinishedCheck{finished(a, again)}, finishedChecks(t, s, ""), emptyIsNil); diff != "" {
		t.Errorf("finished after a second Done (-want +got):\n%s", diff)
	}

	unknown := store.CallbackKey{PlanID: "nope", JobID: "nope", TaskInstanceID: "nope"}
	doneCheck(t, s, unknown, store.CheckOutcome{Result: "succeeded", At: base})
	if n := len(finishedChecks(t, s, "")); n != 1 {
		t.Errorf("finished after Done of an unknown key: %d requests, want 1", n)
	}
	if n := len(pendingChecks(t, s, "")); n != 1 {
		t.Errorf("pending after Done of an unknown key: %d requests, want 1", n)
	}
}

// testCheckFinished: per pool and all, by the outcome's time, not the order of the Done calls.
func testCheckFinished(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	var reqs []store.CheckRequest
	var outs []store.CheckOutcome
	for i, pool := range []string{"linux", "windows", "linux", "lin"} {
		r := checkReq(fmt.Sprintf("p%d", i), pool, base)
		putCheck(t, s, r)
		reqs = append(reqs, r)
		outs = append(outs, store.CheckOutcome{Result: "succeeded", Agent: fmt.Sprintf("agent-%d", i), Sent: true,
			Reason: "online", At: base.Add(time.Duration(10-i) * time.Second)}) // later done, earlier At
	}
	for i := range reqs {
		doneCheck(t, s, reqs[i].Key, outs[i])
	}
	f := func(i int) store.FinishedCheck { return finished(reqs[i], outs[i]) }
	for _, tc := range []struct {
		pool string
		want []store.FinishedCheck
	}{
		{"linux", []store.FinishedCheck{f(2), f(0)}},
		{"lin", []store.FinishedCheck{f(3)}},
		{"macos", nil},
		{"", []store.FinishedCheck{f(3), f(2), f(1), f(0)}},
	} {
		if diff := cmp.Diff(tc.want, finishedChecks(t, s, tc.pool), emptyIsNil); diff != "" {
			t.Errorf("FinishedCheckRequests(%q) (-want +got):\n%s", tc.pool, diff)
		}
	}
}

// testCheckTimesRoundTrip: times given in another zone come back as the same instant in UTC,
// to the millisecond at least; a zero outcome time stays zero.
func testCheckTimesRoundTrip(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	r := checkReq("p", "linux", base.In(zone))
	putCheck(t, s, r)
	got := pendingChecks(t, s, "")
	if len(got) != 1 {
		t.Fatalf("pending = %+v, want one", got)
	}
	if at := got[0].ReceivedAt; !at.Equal(base) || at.Location() != time.UTC {
		t.Errorf("ReceivedAt = %v, want %v in UTC", at, base)
	}
	doneCheck(t, s, r.Key, store.CheckOutcome{Result: "failed", At: base.Add(time.Minute).In(zone)})
	r2 := checkReq("q", "linux", base)
	putCheck(t, s, r2)
	doneCheck(t, s, r2.Key, store.CheckOutcome{Result: "failed"}) // no time
	fs := finishedChecks(t, s, "")
	if len(fs) != 2 {
		t.Fatalf("finished = %+v, want two", fs)
	}
	if !fs[0].Outcome.At.IsZero() {
		t.Errorf("zero outcome time came back as %v, want zero (and first)", fs[0].Outcome.At)
	}
	if at := fs[1].Outcome.At; !at.Equal(base.Add(time.Minute)) || at.Location() != time.UTC {
		t.Errorf("Outcome.At = %v, want %v in UTC", at, base.Add(time.Minute))
	}
	if at := fs[1].Request.ReceivedAt; !at.Equal(base) || at.Location() != time.UTC {
		t.Errorf("finished ReceivedAt = %v, want %v in UTC", at, base)
	}
}

// testCheckReopen: pending and done requests survive closing and reopening the store.
func testCheckReopen(t *testing.T, h *harness) {
	s, key := h.fresh(t)
	p, d := checkReq("pending", "linux", base), checkReq("done", "linux", base.Add(time.Second))
	putCheck(t, s, p)
	putCheck(t, s, d)
	o := store.CheckOutcome{Result: "succeeded", Agent: "a", Reason: "online", Sent: true, At: base.Add(time.Minute)}
	doneCheck(t, s, d.Key, o)
	s = h.reopen(t, s, key)
	if diff := cmp.Diff([]store.CheckRequest{p}, pendingChecks(t, s, "linux"), emptyIsNil); diff != "" {
		t.Errorf("pending after reopen (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]store.FinishedCheck{finished(d, o)}, finishedChecks(t, s, "linux"), emptyIsNil); diff != "" {
		t.Errorf("finished after reopen (-want +got):\n%s", diff)
	}
	if created, err := s.PutCheckRequest(t.Context(), p); err != nil || created {
		t.Errorf("PutCheckRequest of a recorded key after reopen: got %v, %v; want false, nil", created, err)
	}
}

// testCheckPutConcurrent races puts of one key (ADO retrying a slow call, two replicas): one
// creates it.
func testCheckPutConcurrent(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	const racers = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	start := make(chan struct{})
	for i := range racers {
		wg.Go(func() {
			r := checkReq("plan", "linux", base.Add(time.Duration(i)*time.Millisecond))
			<-start
			created, err := s.PutCheckRequest(t.Context(), r)
			if err != nil {
				t.Errorf("PutCheckRequest: %v", err)
				return
			}
			if created {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d of %d racers created the request, want exactly 1", wins, racers)
	}
	if n := len(pendingChecks(t, s, "linux")); n != 1 {
		t.Errorf("pending requests = %d, want 1", n)
	}
}

func testCheckCanceledContext(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	r := checkReq("p", "linux", base)
	putCheck(t, s, r)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := map[string]func() error{
		"PutCheckRequest": func() error { _, err := s.PutCheckRequest(ctx, checkReq("q", "linux", base)); return err },
		"PendingCheckRequests": func() error {
			_, err := s.PendingCheckRequests(ctx, "linux")
			return err
		},
		"DoneCheckRequest": func() error {
			return s.DoneCheckRequest(ctx, r.Key, store.CheckOutcome{Result: "failed", At: base})
		},
		"FinishedCheckRequests": func() error { _, err := s.FinishedCheckRequests(ctx, ""); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: got %v, want context.Canceled", name, err)
		}
	}
	if diff := cmp.Diff([]store.CheckRequest{r}, pendingChecks(t, s, ""), emptyIsNil); diff != "" {
		t.Errorf("pending after canceled calls (-want +got):\n%s", diff)
	}
}
