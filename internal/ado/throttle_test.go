package ado_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/ado"
)

// TestOnThrottleIsToldOfEach429: every 429 answer reaches the hook with the call's name and the
// Retry-After wait, and the call still succeeds on its retry.
func TestOnThrottleIsToldOfEach429(t *testing.T) {
	t.Parallel()
	type throttle struct {
		Op   string
		Wait time.Duration
	}
	f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 0:
			w.Header().Set("Retry-After", "3")
			adoError(w, 429, "RequestThrottledException", "Request was blocked")
		case 1:
			adoError(w, 429, "RequestThrottledException", "Request was blocked") // no Retry-After
		default:
			writeJSON(w, 200, pools(t))
		}
	})
	var mu sync.Mutex
	var got []throttle
	inBubble(t, f, func(o *ado.Options) {
		o.OnThrottle = func(op string, wait time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, throttle{op, wait})
		}
	}, func(t *testing.T, c *ado.Client) {
		if _, err := c.FindPool(t.Context(), "LINUX"); err != nil {
			t.Fatalf("FindPool: %v", err)
		}
	})
	want := []throttle{{"FindPool", 3 * time.Second}, {"FindPool", 0}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("throttle reports (-want +got):\n%s", diff)
	}
}
