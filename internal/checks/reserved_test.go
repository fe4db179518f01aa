package checks_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/checks"
)

// The agent that released a check is reserved for its pool until ReserveFor passes.
func TestReservedNamesTheReleasingAgent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.check(t)
	e.startAgents(t, "a", 1)
	cb, err := checks.NewCallbacker(checks.CallbackerOptions{
		Requests: e.reqs, Claims: e.store, ADO: e.client, Timeout: time.Hour,
		ReserveFor: 10 * time.Minute, Now: e.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := cb.Reserved(testPool); len(got) != 0 {
		t.Fatalf("Reserved before any release: got %v, want none", got)
	}
	runOnce(t, cb)
	if diff := cmp.Diff(map[string]bool{"a-0": true}, cb.Reserved(testPool)); diff != "" {
		t.Errorf("Reserved after the release (-want +got):\n%s", diff)
	}
	if got := cb.Reserved("windows"); len(got) != 0 {
		t.Errorf("Reserved of another pool: got %v, want none", got)
	}
	e.clock.Advance(10 * time.Minute)
	if got := cb.Reserved(testPool); len(got) != 0 {
		t.Errorf("Reserved after ReserveFor: got %v, want none", got)
	}
}
