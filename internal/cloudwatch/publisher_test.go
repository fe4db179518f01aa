package cloudwatch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/cloudwatch"
	"github.com/adofleet/adofleet/internal/cloudwatch/cwfake"
)

var at = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func pools(n int) []cloudwatch.PoolGauges {
	out := make([]cloudwatch.PoolGauges, n)
	for i := range out {
		out[i] = cloudwatch.PoolGauges{Pool: fmt.Sprintf("pool-%03d", i), QueueDepth: i, Busy: i % 7, Idle: i % 3, Starting: i % 5}
	}
	return out
}

func static(g []cloudwatch.PoolGauges) cloudwatch.Source {
	return cloudwatch.SourceFunc(func(context.Context) ([]cloudwatch.PoolGauges, error) { return g, nil })
}

// want is what the fake should have decoded for g.
func want(g []cloudwatch.PoolGauges) []cwfake.Datum {
	var out []cwfake.Datum
	for _, p := range g {
		for _, mv := range []struct {
			n string
			v int
		}{{"QueueDepth", p.QueueDepth}, {"BusyAgents", p.Busy}, {"IdleAgents", p.Idle}, {"StartingAgents", p.Starting}} {
			out = append(out, cwfake.Datum{MetricName: mv.n, Dimensions: map[string]string{"Pool": p.Pool},
				Timestamp: at, Value: float64(mv.v), Unit: "Count"})
		}
	}
	return out
}

func newPublisher(t *testing.T, s *cwfake.Server, src cloudwatch.Source, opts cloudwatch.Options) (*cloudwatch.Publisher, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	opts.Now = func() time.Time { return at }
	p, err := cloudwatch.New(cw.NewFromConfig(s.Config()), src, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p, reg
}

func TestPublishBatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		pools     int
		opts      cloudwatch.Options
		wantNS    string
		wantSizes []int
	}{
		{name: "one call", pools: 2, wantNS: "adofleet", wantSizes: []int{8}},
		{name: "API limit of 1000", pools: 300, opts: cloudwatch.Options{Namespace: "ci/fleet"}, wantNS: "ci/fleet", wantSizes: []int{1000, 200}},
		{name: "smaller batches", pools: 3, opts: cloudwatch.Options{BatchSize: 5}, wantNS: "adofleet", wantSizes: []int{5, 5, 2}},
		{name: "oversized batch clamped", pools: 260, opts: cloudwatch.Options{BatchSize: 5000}, wantNS: "adofleet", wantSizes: []int{1000, 40}},
		{name: "no pools", pools: 0, wantNS: "adofleet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := cwfake.New(t)
			g := pools(tt.pools)
			p, reg := newPublisher(t, s, static(g), tt.opts)
			if err := p.Publish(context.Background()); err != nil {
				t.Fatalf("Publish: %v", err)
			}
			var sizes []int
			var got []cwfake.Datum
			for _, c := range s.Calls() {
				if c.Namespace != tt.wantNS {
					t.Errorf("Namespace = %q, want %q", c.Namespace, tt.wantNS)
				}
				sizes = append(sizes, len(c.Data))
				if len(c.Data) == 1000 && !c.Gzipped {
					t.Error("a 1000-datum request was not gzipped: the SDK compresses PutMetricData above 10 KiB")
				}
				got = append(got, c.Data...)
			}
			if diff := cmp.Diff(tt.wantSizes, sizes); diff != "" {
				t.Errorf("batch sizes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want(g), got); diff != "" {
				t.Errorf("metric data (-want +got):\n%s", diff)
			}
			if got, want := published(t, reg), float64(4*tt.pools); got != want {
				t.Errorf("datapoints_published_total = %v, want %v", got, want)
			}
		})
	}
}

func TestPublishErrors(t *testing.T) {
	t.Parallel()
	s := cwfake.New(t)
	s.FailNext("Throttling", "", "InternalServiceFault")
	var logs bytes.Buffer
	p, reg := newPublisher(t, s, static(pools(5)), cloudwatch.Options{BatchSize: 8, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	err := p.Publish(context.Background())
	if err == nil {
		t.Fatal("Publish: got nil error")
	}
	for _, w := range []string{"Throttling", "InternalServiceError", "(8 data from #0)", "(4 data from #16)"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if got := len(s.Calls()); got != 3 {
		t.Errorf("calls = %d, want 3: a failed batch must not stop the others", got)
	}
	if got := strings.Count(logs.String(), "PutMetricData failed"); got != 2 {
		t.Errorf("logged failures = %d, want 2; logs:\n%s", got, logs.String())
	}
	if got := errCount(t, reg, cloudwatch.StagePut); got != 2 {
		t.Errorf("publish_errors_total{stage=put} = %v, want 2", got)
	}
	if got := published(t, reg); got != 8 {
		t.Errorf("datapoints_published_total = %v, want 8", got)
	}
}

func TestPublishSnapshotError(t *testing.T) {
	t.Parallel()
	s := cwfake.New(t)
	boom := errors.New("controller not ready")
	p, reg := newPublisher(t, s, cloudwatch.SourceFunc(func(context.Context) ([]cloudwatch.PoolGauges, error) { return nil, boom }), cloudwatch.Options{})
	if err := p.Publish(context.Background()); !errors.Is(err, boom) {
		t.Errorf("Publish error = %v, want it to wrap %v", err, boom)
	}
	if got := len(s.Calls()); got != 0 {
		t.Errorf("calls = %d, want 0", got)
	}
	if got := errCount(t, reg, cloudwatch.StageSnapshot); got != 1 {
		t.Errorf("publish_errors_total{stage=snapshot} = %v, want 1", got)
	}
}

// recorder is an in-memory API for the timing tests, which run in a synctest bubble where a
// loopback server cannot be used; block makes each call wait for its context.
type recorder struct {
	mu    sync.Mutex
	times []time.Time
	block bool
}

func (r *recorder) PutMetricData(ctx context.Context, _ *cw.PutMetricDataInput, _ ...func(*cw.Options)) (*cw.PutMetricDataOutput, error) {
	r.mu.Lock()
	r.times = append(r.times, time.Now())
	r.mu.Unlock()
	if r.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return &cw.PutMetricDataOutput{}, nil
}

func TestRunInterval(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		p, err := cloudwatch.New(rec, static(pools(1)), cloudwatch.Options{Interval: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { p.Run(ctx); close(done) }()
		time.Sleep(95 * time.Second)
		cancel()
		<-done
		var got []time.Duration
		for _, ts := range rec.times {
			got = append(got, ts.Sub(start))
		}
		if diff := cmp.Diff([]time.Duration{0, 30 * time.Second, 60 * time.Second, 90 * time.Second}, got); diff != "" {
			t.Errorf("publication times (-want +got):\n%s", diff)
		}
	})
}

func TestPublishTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{block: true}
		reg := prometheus.NewRegistry()
		p, err := cloudwatch.New(rec, static(pools(3)), cloudwatch.Options{Timeout: 5 * time.Second, BatchSize: 8, Registerer: reg})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err = p.Publish(t.Context())
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Publish error = %v, want a deadline", err)
		}
		if got, want := time.Since(start), 10*time.Second; got != want {
			t.Errorf("two timed-out batches took %v, want %v (5s each)", got, want)
		}
		if got := errCount(t, reg, cloudwatch.StagePut); got != 2 {
			t.Errorf("publish_errors_total{stage=put} = %v, want 2", got)
		}
	})
}

func TestNewRejectsDoubleRegistration(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	opts := cloudwatch.Options{Registerer: reg}
	if _, err := cloudwatch.New(&recorder{}, static(nil), opts); err != nil {
		t.Fatal(err)
	}
	if _, err := cloudwatch.New(&recorder{}, static(nil), opts); err == nil {
		t.Error("second New on the same registry: got nil error")
	}
	if _, err := cloudwatch.New(nil, static(nil), cloudwatch.Options{}); err == nil {
		t.Error("New with a nil API: got nil error")
	}
}
