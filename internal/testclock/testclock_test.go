package testclock_test

import (
	"sync"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/testclock"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// writers and steps size the concurrency tests: goroutines of each kind, and calls each makes.
const writers, steps = 8, 500

func TestManualStandsStillUntilMoved(t *testing.T) {
	t.Parallel()
	c := testclock.NewManual(t0)
	var now func() time.Time = c.Now // the shape code under test takes
	if got := now(); !got.Equal(t0) {
		t.Fatalf("Now = %v, want %v", got, t0)
	}
	if got := now(); !got.Equal(t0) {
		t.Errorf("Now again = %v, want it still at %v", got, t0)
	}
	c.Advance(90 * time.Second)
	if got, want := now(), t0.Add(90*time.Second); !got.Equal(want) {
		t.Errorf("after Advance(90s): Now = %v, want %v", got, want)
	}
	c.Advance(-30 * time.Second)
	if got, want := now(), t0.Add(time.Minute); !got.Equal(want) {
		t.Errorf("after Advance(-30s): Now = %v, want %v", got, want)
	}
	later := t0.Add(24 * time.Hour)
	c.Set(later)
	if got := now(); !got.Equal(later) {
		t.Errorf("after Set: Now = %v, want %v", got, later)
	}
}

func TestManualZeroValueStandsAtTheZeroTime(t *testing.T) {
	t.Parallel()
	var c testclock.Manual
	if got := c.Now(); !got.IsZero() {
		t.Errorf("zero Manual: Now = %v, want the zero time", got)
	}
	c.Advance(time.Hour)
	if got, want := c.Now(), (time.Time{}).Add(time.Hour); !got.Equal(want) {
		t.Errorf("zero Manual after Advance(1h): Now = %v, want %v", got, want)
	}
}

// concurrently runs writers goroutines that each Advance the clock by a second steps times,
// alongside as many that read it steps times and report it going back (run under -race, this
// also checks the clock's locking).
func concurrently(t *testing.T, advance func(time.Duration), now func() time.Time) {
	t.Helper()
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range steps {
				advance(time.Second)
			}
		})
	}
	errs := make(chan string, writers)
	for range writers {
		wg.Go(func() {
			prev := now()
			for range steps {
				n := now()
				if n.Before(prev) {
					errs <- n.String() + " after " + prev.String()
					return
				}
				prev = n
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("the clock went back: %s", e)
	}
}

// Advances from many goroutines all count, and the clock never goes back for readers.
func TestManualConcurrentAdvanceAndNow(t *testing.T) {
	t.Parallel()
	c := testclock.NewManual(t0)
	concurrently(t, c.Advance, c.Now)
	if got, want := c.Now(), t0.Add(writers*steps*time.Second); !got.Equal(want) {
		t.Errorf("after %d concurrent Advance(1s): Now = %v, want %v", writers*steps, got, want)
	}
}

// An Offset clock runs with real time: between two real-time readings, it reads between them
// plus its offset.
func TestOffsetRunsWithRealTimePlusTheOffset(t *testing.T) {
	t.Parallel()
	var c testclock.Offset
	check := func(offset time.Duration) {
		t.Helper()
		before := time.Now()
		got := c.Now()
		after := time.Now()
		if got.Before(before.Add(offset)) || got.After(after.Add(offset)) {
			t.Errorf("Now = %v, want between %v and %v (real time plus %v)", got, before.Add(offset), after.Add(offset), offset)
		}
	}
	check(0)
	c.Advance(time.Hour)
	check(time.Hour)
	c.Advance(30 * time.Minute)
	check(90 * time.Minute)

	first := c.Now()
	if second := c.Now(); second.Before(first) {
		t.Errorf("Now went back with no Advance: %v, then %v", first, second)
	}
}

// Advances from many goroutines all count, and the clock never goes back for readers.
func TestOffsetConcurrentAdvanceAndNow(t *testing.T) {
	t.Parallel()
	var c testclock.Offset
	concurrently(t, c.Advance, c.Now)
	const offset = writers * steps * time.Second
	before := time.Now()
	got := c.Now()
	after := time.Now()
	if got.Before(before.Add(offset)) || got.After(after.Add(offset)) {
		t.Errorf("after %d concurrent Advance(1s): Now = %v, want real time plus %v", writers*steps, got, offset)
	}
}
