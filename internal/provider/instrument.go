package provider

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Instrument wraps p so that every call is counted and timed under the provider label name. It is
// the only place providers are instrumented. reg may be nil (metrics are then kept but not exported).
func Instrument(name string, p Provider, reg prometheus.Registerer, opts ...InstrumentOption) Provider {
	i := &instrumented{name: name, next: p, m: newMetrics(reg), now: time.Now}
	for _, o := range opts {
		o(i)
	}
	return i
}

// recentTokens bounds the memory used to avoid counting an idempotent replay's instances twice.
const recentTokens = 1024

type instrumented struct {
	name       string
	next       Provider
	m          *metrics
	now        func() time.Time
	onThrottle ThrottleHook

	mu      sync.Mutex
	counted map[string]bool // launch tokens whose instances were counted
	order   []string        // counted tokens, oldest first
}

// Unwrap returns the decorated provider, for callers that need its own methods (e.g. Close).
func (i *instrumented) Unwrap() Provider { return i.next }

func (i *instrumented) Launch(ctx context.Context, req LaunchRequest) ([]Instance, error) {
	start := i.now()
	insts, err := i.next.Launch(ctx, req)
	i.observe(OpLaunch, start, err)
	if n := len(insts); n > 0 && i.firstTime(req.Token) {
		i.m.launched.WithLabelValues(i.name, req.Pool).Add(float64(n))
	}
	return insts, err
}

// firstTime reports whether instances for token have not been counted yet, and remembers it.
// Launches without a token are not idempotent, so each one counts.
func (i *instrumented) firstTime(token string) bool {
	if token == "" {
		return true
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.counted[token] {
		return false
	}
	if i.counted == nil {
		i.counted = map[string]bool{}
	}
	i.counted[token] = true
	i.order = append(i.order, token)
	if len(i.order) > recentTokens {
		delete(i.counted, i.order[0])
		i.order = i.order[1:]
	}
	return true
}

func (i *instrumented) Terminate(ctx context.Context, ids []string) error {
	start := i.now()
	err := i.next.Terminate(ctx, ids)
	i.observe(OpTerminate, start, err)
	return err
}

func (i *instrumented) List(ctx context.Context, pool string) ([]Instance, error) {
	start := i.now()
	insts, err := i.next.List(ctx, pool)
	i.observe(OpList, start, err)
	return insts, err
}

func (i *instrumented) observe(op string, start time.Time, err error) {
	i.m.requests.WithLabelValues(i.name, op, outcome(err)).Inc()
	i.m.duration.WithLabelValues(i.name, op).Observe(i.now().Sub(start).Seconds())
	if i.onThrottle != nil {
		if code, ok := ThrottleCode(err); ok {
			i.onThrottle(i.name, op, code)
		}
	}
}
