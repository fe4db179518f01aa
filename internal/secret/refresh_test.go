package secret_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/secret"
)

// scripted is a Resolver answering from a queue of results and counting calls.
type scripted struct {
	mu      sync.Mutex
	results []result
	calls   int
}

type result struct {
	val string
	err error
}

func (s *scripted) Resolve(context.Context, string) (secret.Value, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	r := s.results[0]
	if len(s.results) > 1 {
		s.results = s.results[1:]
	}
	if r.err != nil {
		return secret.Value{}, r.err
	}
	return secret.New(r.val), nil
}

func TestRefresher(t *testing.T) {
	t.Parallel()
	errDown := errors.New("backend down")
	type step struct {
		advance time.Duration
		want    string // "" means an error is wanted
	}
	tests := []struct {
		name      string
		results   []result
		steps     []step
		wantCalls int
	}{
		{
			name:      "first resolve fails",
			results:   []result{{err: errDown}},
			steps:     []step{{0, ""}},
			wantCalls: 1,
		},
		{
			name:      "cached until the TTL",
			results:   []result{{val: "a"}, {val: "b"}},
			steps:     []step{{0, "a"}, {59 * time.Second, "a"}, {time.Second, "b"}, {time.Second, "b"}},
			wantCalls: 2,
		},
		{
			name:    "stale through the grace period, then an error",
			results: []result{{val: "a"}, {err: errDown}},
			// TTL 1m, grace 5m, retry after 10s.
			steps:     []step{{0, "a"}, {time.Minute, "a"}, {5 * time.Second, "a"}, {5 * time.Second, "a"}, {5 * time.Minute, ""}},
			wantCalls: 4, // initial, failure at 1m, (none at 1m05s), failure at 1m10s, failure at 6m10s
		},
		{
			name:      "recovers after a failed refresh",
			results:   []result{{val: "a"}, {err: errDown}, {val: "b"}},
			steps:     []step{{0, "a"}, {time.Minute, "a"}, {10 * time.Second, "b"}, {30 * time.Second, "b"}},
			wantCalls: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := &scripted{results: tt.results}
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			var logs bytes.Buffer
			r := secret.NewRefresher(res, "env:ADO_PAT", secret.RefreshOptions{
				TTL: time.Minute, Grace: 5 * time.Minute, RetryAfter: 10 * time.Second,
				Now: func() time.Time { return now }, Log: slog.New(slog.NewTextHandler(&logs, nil)),
			})
			for i, st := range tt.steps {
				now = now.Add(st.advance)
				v, err := r.Get(context.Background())
				if st.want == "" {
					if err == nil {
						t.Fatalf("step %d: Get = %q, want an error", i, v.Reveal())
					}
					if !errors.Is(err, errDown) || !strings.Contains(err.Error(), "env:ADO_PAT") {
						t.Errorf("step %d: error %q should wrap the cause and name the reference", i, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("step %d: Get: %v", i, err)
				}
				if got := v.Reveal(); got != st.want {
					t.Errorf("step %d: Get = %q, want %q", i, got, st.want)
				}
			}
			if res.calls != tt.wantCalls {
				t.Errorf("resolver calls = %d, want %d", res.calls, tt.wantCalls)
			}
			for _, leak := range []string{`"a"`, "=a ", `"b"`, "=b "} {
				if strings.Contains(logs.String(), leak) {
					t.Errorf("logs contain a value (%s): %s", leak, logs.String())
				}
			}
		})
	}
}

func TestRefresherConcurrentGetsResolveOnce(t *testing.T) {
	t.Parallel()
	res := &scripted{results: []result{{val: token}}}
	r := secret.NewRefresher(res, "env:ADO_PAT", secret.RefreshOptions{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if v, err := r.Get(context.Background()); err != nil || v.Reveal() != token {
				t.Errorf("Get = %v, %v", v, err)
			}
		})
	}
	wg.Wait()
	if res.calls != 1 {
		t.Errorf("resolver calls = %d, want 1", res.calls)
	}
}

func TestStatic(t *testing.T) {
	t.Parallel()
	var src secret.Source = secret.Static(secret.New(token))
	if v, err := src.Get(context.Background()); err != nil || v.Reveal() != token {
		t.Errorf("Static.Get = %v, %v", v, err)
	}
}
