package controller_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/store"
)

// cycleClock is an ADO whose agent list records when each cycle started and then fails the
// cycle, so a test counts cycles without the rest of the stack. The embedded interface is nil:
// any other call would panic, and none is made.
type cycleClock struct {
	controller.ADO
	mu     sync.Mutex
	cycles []time.Time
}

func (c *cycleClock) FindPool(context.Context, string) (ado.Pool, error) {
	return ado.Pool{ID: 7, Name: testPool}, nil
}

func (c *cycleClock) ListAgents(context.Context, int) ([]ado.Agent, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cycles = append(c.cycles, time.Now())
	return nil, errors.New("stop here: the test counts cycles")
}

func (c *cycleClock) starts() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Time(nil), c.cycles...)
}

// A burst of wake-ups costs one cycle per WakeInterval, an isolated wake-up runs at once, and
// no wake-up waits longer than the interval for a cycle that starts after it.
func TestWakeUpsCoalesce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		n        int
		spacing  time.Duration // between wake-ups
		interval time.Duration
		// wantMax bounds the cycles the burst costs (the startup cycle not counted).
		wantMax int
	}{
		{"200 at once", 200, 0, 2 * time.Second, 2},
		{"200 within the interval", 200, 9 * time.Millisecond, 2 * time.Second, 2},
		{"200 over a minute", 200, 300 * time.Millisecond, 2 * time.Second, 31},
		{"200 over a minute, no interval", 200, 300 * time.Millisecond, -1, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				fake := &cycleClock{}
				c, err := controller.New(controller.Options{
					ADO: fake, Providers: controller.ProviderMap{"p": provider.Provider(nil)},
					Store: struct{ store.Store }{}, AgentToken: func() string { return "x" }, OrgURL: "http://ado.invalid/o",
					Pools:  []controller.PoolConfig{{Name: testPool, Provider: "p", Policy: testPolicy()}},
					Resync: time.Hour, WakeInterval: tt.interval,
				})
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan struct{})
				go func() { _ = c.Run(ctx); close(done) }()
				synctest.Wait()
				time.Sleep(time.Minute) // a quiet spell after the startup cycle

				quiet := time.Now()
				c.Wake(testPool)
				synctest.Wait()
				if got := fake.starts(); len(got) != 2 || !got[1].Equal(quiet) {
					t.Fatalf("cycles %v; want the startup cycle and one at %v, the instant of the wake-up", got, quiet)
				}
				var wakes []time.Time
				for i := range tt.n {
					if i > 0 && tt.spacing > 0 {
						time.Sleep(tt.spacing)
					}
					wakes = append(wakes, time.Now())
					c.Wake(testPool)
				}
				time.Sleep(max(tt.interval, 0) + time.Second)
				synctest.Wait()
				cancel()
				<-done

				starts := fake.starts()
				if got := len(starts) - 2; got > tt.wantMax || got < 1 {
					t.Errorf("%d wake-ups cost %d cycles, want 1 to %d", tt.n, got, tt.wantMax)
				}
				for _, w := range wakes {
					if !servedWithin(starts, w, max(tt.interval, 0)) {
						t.Fatalf("wake-up at %v: no cycle started within %v after it; cycles %v", w, tt.interval, starts)
					}
				}
			})
		})
	}
}

// servedWithin reports whether a cycle started in [w, w+d].
func servedWithin(starts []time.Time, w time.Time, d time.Duration) bool {
	for _, s := range starts {
		if !s.Before(w) && !s.After(w.Add(d)) {
			return true
		}
	}
	return false
}

func TestNextWakeCycle(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		last, now time.Time
		interval  time.Duration
		want      time.Time
	}{
		{"no cycle yet", time.Time{}, t0, 2 * time.Second, t0},
		{"last cycle long ago", t0.Add(-time.Minute), t0, 2 * time.Second, t0},
		{"exactly the interval ago", t0.Add(-2 * time.Second), t0, 2 * time.Second, t0},
		{"within the interval", t0.Add(-500 * time.Millisecond), t0, 2 * time.Second, t0.Add(1500 * time.Millisecond)},
		{"no interval", t0, t0, -1, t0},
	}
	for _, tt := range tests {
		if got := controller.NextWakeCycle(tt.last, tt.now, tt.interval); !got.Equal(tt.want) {
			t.Errorf("%s: NextWakeCycle = %v, want %v", tt.name, got, tt.want)
		}
	}
}
