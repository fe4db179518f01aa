package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/store"
)

// fenceWrite is one kind of store write, made with ctx against the state fenceSeed wrote.
type fenceWrite struct {
	name string
	do   func(ctx context.Context, s store.Store) error
}

var fencedKey = store.CallbackKey{PlanID: "fenced-plan", JobID: "job", TaskInstanceID: "task"}

// fenceWrites is every write of store.Store (the lease's own calls aside), each changing what
// fenceSeed wrote or adding to it.
var fenceWrites = []fenceWrite{
	{"CreateAgent", func(ctx context.Context, s store.Store) error {
		return s.CreateAgent(ctx, record("agent-new", "linux", store.StateLaunching))
	}},
	{"UpdateAgent", func(ctx context.Context, s store.Store) error {
		r := record("agent-1", "linux", store.StateRegistered)
		r.Version, r.Reason = 1, "updated under a fence"
		_, err := s.UpdateAgent(ctx, r)
		return err
	}},
	{"DeleteAgent", func(ctx context.Context, s store.Store) error { return s.DeleteAgent(ctx, "agent-2") }},
	{"AppendDecision", func(ctx context.Context, s store.Store) error {
		return s.AppendDecision(ctx, store.Decision{Time: base.Add(time.Minute), Pool: "linux", Action: "launch", Target: "1"})
	}},
	{"ClaimCallback", func(ctx context.Context, s store.Store) error {
		_, err := s.ClaimCallback(ctx, fencedKey, "succeeded", base)
		return err
	}},
	{"CreateVM", func(ctx context.Context, s store.Store) error {
		return s.CreateVM(ctx, vmRecord("i-new", "proj", "prod", store.VMRegistered))
	}},
	{"UpdateVM", func(ctx context.Context, s store.Store) error {
		r := vmRecord("i-1", "proj", "prod", store.VMRegistered)
		r.Version, r.Reason = 1, "updated under a fence"
		_, err := s.UpdateVM(ctx, r)
		return err
	}},
	{"DeleteVM", func(ctx context.Context, s store.Store) error { return s.DeleteVM(ctx, "i-2") }},
	{"EnqueueMessage", func(ctx context.Context, s store.Store) error {
		_, err := s.EnqueueMessage(ctx, message("msg-new", "slack", "alert-new"), noDedup)
		return err
	}},
	{"UpdateMessage", func(ctx context.Context, s store.Store) error {
		m := message("msg-1", "slack", "")
		m.State, m.Version, m.Attempts, m.LastError = store.OutboxPending, 1, 1, "503 from slack"
		_, err := s.UpdateMessage(ctx, m)
		return err
	}},
	{"PutCheckRequest", func(ctx context.Context, s store.Store) error {
		_, err := s.PutCheckRequest(ctx, checkReq("plan-new", "linux", base))
		return err
	}},
	{"DoneCheckRequest", func(ctx context.Context, s store.Store) error {
		return s.DoneCheckRequest(ctx, checkReq("plan-1", "linux", base).Key, store.CheckOutcome{Result: "succeeded", At: base.Add(time.Minute)})
	}},
}

// fenceSeed writes the records fenceWrites change, and a lease "ctl" held by "a" (token 1)
// then taken over by "b" (token 2); it returns fences with both tokens.
func fenceSeed(t *testing.T, s store.Store) (stale, current store.Fence) {
	t.Helper()
	for _, name := range []string{"agent-1", "agent-2"} {
		create(t, s, record(name, "linux", store.StateLaunching))
	}
	for _, id := range []string{"i-1", "i-2"} {
		createVM(t, s, vmRecord(id, "proj", "prod", store.VMRegistered))
	}
	enqueue(t, s, message("msg-1", "slack", ""))
	putCheck(t, s, checkReq("plan-1", "linux", base))
	a := acquire(t, s, "ctl", "a", base)
	b := acquire(t, s, "ctl", "b", a.Expires)
	return store.Fence{Lease: "ctl", Token: a.Token}, store.Fence{Lease: "ctl", Token: b.Token}
}

// state is everything a store's reads show, in a fixed order.
type state struct {
	Agents    []store.AgentRecord
	Decisions []store.Decision
	VMs       []store.VMRecord
	Due       []store.OutboxMessage
	Counts    map[store.OutboxState]int
	Pending   []store.CheckRequest
	Finished  []store.FinishedCheck
}

func readState(t *testing.T, s store.Store) state {
	t.Helper()
	ctx := t.Context()
	var (
		st  state
		err error
	)
	must := func(what string, err error) {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	st.Agents, err = s.ListAgents(ctx, "")
	must("ListAgents", err)
	slices.SortFunc(st.Agents, func(a, b store.AgentRecord) int { return strings.Compare(a.Name, b.Name) })
	st.Decisions, err = s.ListDecisions(ctx, "", 0)
	must("ListDecisions", err)
	st.VMs, err = s.ListVMs(ctx, store.VMFilter{})
	must("ListVMs", err)
	slices.SortFunc(st.VMs, func(a, b store.VMRecord) int { return strings.Compare(a.InstanceID, b.InstanceID) })
	st.Due, err = s.DueMessages(ctx, base.Add(24*time.Hour), 0)
	must("DueMessages", err)
	slices.SortFunc(st.Due, func(a, b store.OutboxMessage) int { return strings.Compare(a.ID, b.ID) })
	st.Counts = counts(t, s)
	st.Pending = pendingChecks(t, s, "")
	st.Finished = finishedChecks(t, s, "")
	return st
}

// testFencedWriteRefused: every write made under a superseded token is ErrFenced and changes
// nothing, a claim included.
func testFencedWriteRefused(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	stale, _ := fenceSeed(t, s)
	before := readState(t, s)
	ctx := store.WithFence(t.Context(), stale)
	for _, w := range fenceWrites {
		if err := w.do(ctx, s); !errors.Is(err, store.ErrFenced) {
			t.Errorf("%s with a superseded token: got %v, want ErrFenced", w.name, err)
		}
		if diff := cmp.Diff(before, readState(t, s), emptyIsNil); diff != "" {
			t.Errorf("%s with a superseded token changed the store (-before +after):\n%s", w.name, diff)
		}
	}
	// The refused claim left the key unclaimed.
	if ok, err := s.ClaimCallback(t.Context(), fencedKey, "succeeded", base); err != nil || !ok {
		t.Errorf("ClaimCallback after a fenced claim: got %v, %v; want true, nil", ok, err)
	}
	// A lease that was never taken has no token to match.
	ghost := store.WithFence(t.Context(), store.Fence{Lease: "never-taken", Token: 1})
	if err := fenceWrites[0].do(ghost, s); !errors.Is(err, store.ErrFenced) {
		t.Errorf("%s fenced by a lease never taken: got %v, want ErrFenced", fenceWrites[0].name, err)
	}
}

// testFencedWriteCurrent: under the current token, and with no fence at all while another holder
// leads, every write does exactly what it does unfenced.
func testFencedWriteCurrent(t *testing.T, h *harness) {
	fenced, _ := h.fresh(t)
	plain, _ := h.fresh(t)
	_, current := fenceSeed(t, fenced)
	fenceSeed(t, plain)
	ctx := store.WithFence(t.Context(), current)
	for _, w := range fenceWrites {
		if err := w.do(ctx, fenced); err != nil {
			t.Errorf("%s with the current token: %v", w.name, err)
		}
		if err := w.do(t.Context(), plain); err != nil {
			t.Errorf("%s with no fence: %v", w.name, err)
		}
	}
	got, want := readState(t, fenced), readState(t, plain)
	if diff := cmp.Diff(want, got, emptyIsNil); diff != "" {
		t.Errorf("writes under the current token differ from unfenced writes (-unfenced +fenced):\n%s", diff)
	}
	if len(got.Agents) == 0 || got.Agents[0].Reason != "updated under a fence" {
		t.Errorf("UpdateAgent under the current token: agents %+v, want agent-1 updated", got.Agents)
	}
}
