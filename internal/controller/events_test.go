package controller_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/notify/notifytest"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/scaler"
)

// eventKey is what the tests compare exactly: the parts a route and a template rely on.
type eventKey struct {
	Type     notify.EventType
	Severity notify.Severity
	Pool     string
	Fields   map[string]string
}

func keysOf(es []notify.Event) []eventKey {
	out := make([]eventKey, len(es))
	for i, e := range es {
		out[i] = eventKey{e.Type, e.Severity, e.Pool, e.Fields}
	}
	return out
}

// alertPolicy is a pool of at most one agent whose instances are not orphaned for an hour, so a
// job the fake provider's silent instances never run stays queued at max.
func alertPolicy() scaler.Policy {
	p := testPolicy()
	p.Max = 1
	p.RegistrationTimeout = time.Hour
	return p
}

// newEventsController builds a harness's controller publishing its events to a recorder, with
// its options first adjusted by set (when not nil), and runs its first cycle.
func newEventsController(t *testing.T, policy scaler.Policy, set func(*controller.Options)) (*harness, *controller.Controller, *notifytest.Recorder) {
	t.Helper()
	h := newHarness(t, policy, false)
	rec := &notifytest.Recorder{}
	opts := h.options(nil)
	opts.Events = rec
	if set != nil {
		set(&opts)
	}
	c := h.newController(opts)
	h.reconcile(c)
	return h, c, rec
}

func TestStartFailurePublishesTheProviderReason(t *testing.T) {
	t.Parallel()
	h, c, rec := newEventsController(t, testPolicy(), nil)
	h.queue(1, time.Second)
	h.reconcile(c)
	const why = "CannotPullContainerError: pull access denied"
	if err := h.prov.MarkTerminated("fake-1", why); err != nil {
		t.Fatal(err)
	}
	h.reconcile(c)

	got := keysOf(rec.Of(notify.AgentStartFailed))
	want := []eventKey{{
		Type: notify.AgentStartFailed, Severity: notify.SeverityError, Pool: testPool,
		Fields: map[string]string{"agent": "linux-001", "provider": "fake",
			"reason": "instance ended before its agent registered: " + why},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("agent.start_failed events (-want +got):\n%s", diff)
	}
}

func TestLaunchFailurePublishesOnePerAgent(t *testing.T) {
	t.Parallel()
	h, c, rec := newEventsController(t, testPolicy(), nil)
	h.prov.FailAgent("linux-001", provider.ErrInvalidRequest)
	h.queue(1, time.Second)
	if res := h.reconcile(c); res.LaunchFailed != 1 {
		t.Fatalf("launch failures = %d, want 1", res.LaunchFailed)
	}
	got := rec.Of(notify.AgentStartFailed)
	if len(got) != 1 {
		t.Fatalf("agent.start_failed events = %+v, want 1", got)
	}
	if f := got[0].Fields; f["agent"] != "linux-001" || !strings.HasPrefix(f["reason"], "launch failed: ") ||
		!strings.Contains(f["reason"], provider.ErrInvalidRequest.Error()) {
		t.Errorf("fields = %v, want agent linux-001 and the provider's invalid-request reason", f)
	}
	if got[0].DedupKey == "" || !strings.Contains(got[0].DedupKey, testPool) {
		t.Errorf("dedup key = %q, want one per pool and reason", got[0].DedupKey)
	}
}

func TestOrphanTerminatedIsPublished(t *testing.T) {
	t.Parallel()
	policy := testPolicy()
	h, c, rec := newEventsController(t, policy, nil) // the instance never registers an agent
	h.queue(1, time.Second)
	h.reconcile(c)
	h.clock.Advance(policy.RegistrationTimeout + time.Minute)
	res := h.reconcile(c)
	if res.Terminated != 1 {
		t.Fatalf("terminated %d, want the orphan", res.Terminated)
	}
	got := rec.Of(notify.OrphanTerminated)
	if len(got) != 1 || got[0].Fields["instance"] != "fake-1" || got[0].Fields["reason"] == "" || got[0].Pool != testPool {
		t.Errorf("orphan.terminated events = %+v, want one for fake-1 with the scaler's reason", got)
	}
}

func TestJobWaitedLongOncePerJob(t *testing.T) {
	t.Parallel()
	h, c, rec := newEventsController(t, alertPolicy(), func(opts *controller.Options) {
		opts.JobWaitThreshold = 5 * time.Minute
		opts.PoolAtMaxThreshold = -1
	})
	ids := h.queue(1, time.Second)
	h.reconcile(c)

	h.clock.Advance(4 * time.Minute)
	h.reconcile(c)
	if got := rec.Of(notify.JobWaitedLong); len(got) != 0 {
		t.Fatalf("after 4m: %+v, want no job.waited_long yet", got)
	}
	h.clock.Advance(2 * time.Minute)
	h.reconcile(c)
	h.clock.Advance(10 * time.Minute)
	h.reconcile(c)

	got := rec.Of(notify.JobWaitedLong)
	if len(got) != 1 {
		t.Fatalf("job.waited_long events = %+v, want exactly one", got)
	}
	f := got[0].Fields
	if f["jobRequestId"] != strconv.FormatInt(ids[0], 10) || f["threshold"] != "5m0s" {
		t.Errorf("fields = %v, want request %d and threshold 5m0s", f, ids[0])
	}
	if waited, err := time.ParseDuration(f["waited"]); err != nil || waited < 5*time.Minute {
		t.Errorf("waited = %q, want a duration of at least the threshold", f["waited"])
	}
	if rec.Of(notify.PoolAtMax) != nil {
		t.Errorf("pool.at_max published with its threshold disabled")
	}
}

func TestPoolAtMaxOncePerEpisode(t *testing.T) {
	t.Parallel()
	h, c, rec := newEventsController(t, alertPolicy(), func(opts *controller.Options) {
		opts.JobWaitThreshold = -1
		opts.PoolAtMaxThreshold = 5 * time.Minute
	})
	h.queue(2, time.Second)
	h.reconcile(c) // launches the one agent max allows
	h.reconcile(c) // sees the pool at max with jobs queued: the episode starts
	start := h.clock.Now()

	h.clock.Advance(4 * time.Minute)
	h.reconcile(c)
	if got := rec.Of(notify.PoolAtMax); len(got) != 0 {
		t.Fatalf("after 4m at max: %+v, want nothing yet", got)
	}
	h.clock.Advance(2 * time.Minute)
	h.reconcile(c)
	h.clock.Advance(time.Minute)
	h.reconcile(c)
	got := rec.Of(notify.PoolAtMax)
	if len(got) != 1 {
		t.Fatalf("pool.at_max events = %+v, want one for the episode", got)
	}
	since, err := time.Parse(time.RFC3339, got[0].Fields["since"])
	if err != nil || since.Sub(start).Abs() > time.Second {
		t.Errorf("since = %q, want the episode's start %s", got[0].Fields["since"], start.UTC().Format(time.RFC3339))
	}
	if diff := cmp.Diff(map[string]string{"max": "1", "queued": "2", "since": got[0].Fields["since"]}, got[0].Fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}

	// The instance ends: the pool is below max for a cycle, which closes the episode; the next one
	// is reported again once it has lasted the threshold.
	if err := h.prov.MarkTerminated("fake-1", "stopped"); err != nil {
		t.Fatal(err)
	}
	h.reconcile(c) // below max (relaunches)
	h.reconcile(c) // at max again: a new episode
	h.clock.Advance(6 * time.Minute)
	h.reconcile(c)
	if got := rec.Of(notify.PoolAtMax); len(got) != 2 {
		t.Errorf("pool.at_max events = %d, want a second one for the second episode", len(got))
	}
}
