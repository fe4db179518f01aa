package provider_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/fake"
)

func launchReq(token, pool string, names ...string) provider.LaunchRequest {
	req := provider.LaunchRequest{Token: token, Pool: pool, Tags: provider.TagsFor(pool, "ctl", "", token)}
	for _, n := range names {
		req.Agents = append(req.Agents, provider.AgentSpec{Name: n})
	}
	return req
}

func TestInstrumentCountsOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		setup       func(f *fake.Provider)
		call        func(p provider.Provider) error
		wantOp      string
		wantOutcome string
	}{
		{
			name: "launch ok",
			call: func(p provider.Provider) error {
				_, err := p.Launch(context.Background(), launchReq("t", "pool", "a"))
				return err
			},
			wantOp:      provider.OpLaunch,
			wantOutcome: provider.OutcomeOK,
		},
		{
			name:  "launch partial",
			setup: func(f *fake.Provider) { f.FailAgent("b", provider.ErrInsufficientCapacity) },
			call: func(p provider.Provider) error {
				_, err := p.Launch(context.Background(), launchReq("t", "pool", "a", "b"))
				return err
			},
			wantOp:      provider.OpLaunch,
			wantOutcome: provider.OutcomePartial,
		},
		{
			name:  "launch insufficient capacity",
			setup: func(f *fake.Provider) { f.FailLaunch(1, provider.ErrInsufficientCapacity) },
			call: func(p provider.Provider) error {
				_, err := p.Launch(context.Background(), launchReq("t", "pool", "a"))
				return err
			},
			wantOp:      provider.OpLaunch,
			wantOutcome: provider.OutcomeInsufficientCapacity,
		},
		{
			name:        "terminate not found",
			setup:       func(f *fake.Provider) { f.FailTerminate(1, provider.ErrNotFound) },
			call:        func(p provider.Provider) error { return p.Terminate(context.Background(), []string{"x"}) },
			wantOp:      provider.OpTerminate,
			wantOutcome: provider.OutcomeNotFound,
		},
		{
			name:        "list error",
			setup:       func(f *fake.Provider) { f.FailList(1, errors.New("boom")) },
			call:        func(p provider.Provider) error { _, err := p.List(context.Background(), "pool"); return err },
			wantOp:      provider.OpList,
			wantOutcome: provider.OutcomeError,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := fake.New()
			if tt.setup != nil {
				tt.setup(f)
			}
			reg := prometheus.NewPedanticRegistry()
			p := provider.Instrument("fake", f, reg)
			_ = tt.call(p)

			m := newMetricsReader(t, reg)
			if got := m.counter("adofleet_provider_requests_total", requests("fake", tt.wantOp, tt.wantOutcome)); got != 1 {
				t.Errorf("requests_total{%s,%s} = %v, want 1", tt.wantOp, tt.wantOutcome, got)
			}
			if got := m.histogramCount("adofleet_provider_request_duration_seconds", labels{"provider": "fake", "operation": tt.wantOp}); got != 1 {
				t.Errorf("request_duration_seconds{%s} count = %d, want 1", tt.wantOp, got)
			}
			if got, want := testutil.CollectAndCount(reg, "adofleet_provider_requests_total"), 1; got != want {
				t.Errorf("requests_total series = %d, want %d", got, want)
			}
		})
	}
}

func TestInstrumentCountsLaunchedInstancesOncePerToken(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	f := fake.New()
	f.FailAgent("c", provider.ErrInsufficientCapacity)
	p := provider.Instrument("fake", f, reg)
	ctx := context.Background()

	for range 2 { // the replay returns the same two instances and must not count them again
		insts, err := p.Launch(ctx, launchReq("tok-1", "pool-a", "a", "b", "c"))
		if len(insts) != 2 || err == nil {
			t.Fatalf("Launch = %d instances, %v; want 2 and a partial error", len(insts), err)
		}
	}
	if _, err := p.Launch(ctx, launchReq("tok-2", "pool-b", "d")); err != nil {
		t.Fatalf("Launch pool-b: %v", err)
	}
	m := newMetricsReader(t, reg)
	got := map[string]float64{
		"pool-a": m.counter("adofleet_provider_instances_launched_total", labels{"provider": "fake", "pool": "pool-a"}),
		"pool-b": m.counter("adofleet_provider_instances_launched_total", labels{"provider": "fake", "pool": "pool-b"}),
	}
	if diff := cmp.Diff(map[string]float64{"pool-a": 2, "pool-b": 1}, got); diff != "" {
		t.Errorf("instances_launched_total (-want +got):\n%s", diff)
	}
	if got := m.counter("adofleet_provider_requests_total", requests("fake", provider.OpLaunch, provider.OutcomePartial)); got != 2 {
		t.Errorf("requests_total{launch,partial} = %v, want 2", got)
	}
}

func TestInstrumentTwoProvidersShareOneRegistry(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	a := provider.Instrument("a", fake.New(), reg)
	b := provider.Instrument("b", fake.New(), reg)
	ctx := context.Background()
	if _, err := a.List(ctx, "pool"); err != nil {
		t.Fatalf("a.List: %v", err)
	}
	for range 2 {
		if _, err := b.List(ctx, "pool"); err != nil {
			t.Fatalf("b.List: %v", err)
		}
	}
	m := newMetricsReader(t, reg)
	got := map[string]float64{
		"a": m.counter("adofleet_provider_requests_total", requests("a", provider.OpList, provider.OutcomeOK)),
		"b": m.counter("adofleet_provider_requests_total", requests("b", provider.OpList, provider.OutcomeOK)),
	}
	if diff := cmp.Diff(map[string]float64{"a": 1, "b": 2}, got); diff != "" {
		t.Errorf("requests_total by provider (-want +got):\n%s", diff)
	}
}

func TestInstrumentPassesResultsThrough(t *testing.T) {
	t.Parallel()
	f := fake.New()
	p := provider.Instrument("fake", f, nil)
	ctx := context.Background()
	got, err := p.Launch(ctx, launchReq("t", "pool", "a"))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	want, _ := f.List(ctx, "pool")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Launch through Instrument (-want +got):\n%s", diff)
	}
	f.FailTerminate(1, provider.ErrNotFound)
	if err := p.Terminate(ctx, []string{got[0].ID}); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("Terminate error = %v, want ErrNotFound", err)
	}
}
