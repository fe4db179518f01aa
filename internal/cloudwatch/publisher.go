// Package cloudwatch publishes per-pool gauges (queue depth, busy, idle and starting agents) to
// Amazon CloudWatch with PutMetricData, so that AWS-side alarms and dashboards (and autoscalers
// built on them) see what the controller sees.
package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/prometheus/client_golang/prometheus"
)

// PoolGauges is one pool's numbers at one instant.
type PoolGauges struct {
	Pool       string
	QueueDepth int // jobs queued for the pool and not yet assigned
	Busy       int // agents running a job
	Idle       int // agents registered and waiting
	Starting   int // instances launched whose agents have not registered yet
}

// Source supplies the gauges; the CLI adapts the controller's status to it.
type Source interface {
	Snapshot(ctx context.Context) ([]PoolGauges, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context) ([]PoolGauges, error)

// Snapshot implements Source.
func (f SourceFunc) Snapshot(ctx context.Context) ([]PoolGauges, error) { return f(ctx) }

// API is the part of *cloudwatch.Client the publisher uses.
type API interface {
	PutMetricData(ctx context.Context, in *cw.PutMetricDataInput, optFns ...func(*cw.Options)) (*cw.PutMetricDataOutput, error)
}

// Metric names published, each with the dimension Pool and unit Count.
const (
	MetricQueueDepth     = "QueueDepth"
	MetricBusyAgents     = "BusyAgents"
	MetricIdleAgents     = "IdleAgents"
	MetricStartingAgents = "StartingAgents"
	DimensionPool        = "Pool"
)

// MaxBatch is the most metric data one PutMetricData call may carry: "The array can include no
// more than 1000 metrics per call" (PutMetricDataInput.MetricData in the CloudWatch API model and
// in aws-sdk-go-v2/service/cloudwatch v1.75.6, api_op_PutMetricData.go).
const MaxBatch = 1000

// Defaults of Options.
const (
	DefaultNamespace = "adofleet"
	DefaultInterval  = time.Minute // CloudWatch's standard resolution
	DefaultTimeout   = 10 * time.Second
)

// Options configures a Publisher. Zero fields take the defaults.
type Options struct {
	Namespace string        // default "adofleet"
	Interval  time.Duration // between publications; default 1m
	Timeout   time.Duration // bound on each PutMetricData call; default 10s
	BatchSize int           // metric data per call, at most MaxBatch (the default)
	// Now returns the current time, stamped on every datum (a seam for tests). Default time.Now.
	Now        func() time.Time
	Log        *slog.Logger
	Registerer prometheus.Registerer // nil: metrics are kept but not exported
}

// Publisher pushes a Source's gauges to CloudWatch on an interval.
type Publisher struct {
	api  API
	src  Source
	opts Options
	log  *slog.Logger
	m    *metrics
}

// New returns a Publisher; call Run to start it.
func New(api API, src Source, opts Options) (*Publisher, error) {
	if api == nil || src == nil {
		return nil, errors.New("cloudwatch: nil API or Source")
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.BatchSize <= 0 || opts.BatchSize > MaxBatch {
		opts.BatchSize = MaxBatch
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	return &Publisher{api: api, src: src, opts: opts, log: log.With("component", "cloudwatch", "namespace", opts.Namespace), m: m}, nil
}

// Run publishes at once, then every Interval, until ctx is done. Failures are logged and counted,
// never fatal: CloudWatch being unreachable must not stop the fleet.
func (p *Publisher) Run(ctx context.Context) {
	t := time.NewTicker(p.opts.Interval)
	defer t.Stop()
	for {
		_ = p.Publish(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Publish takes one snapshot and sends it in batches of at most BatchSize. A failed batch does
// not stop the others; the returned error joins every failure (already logged and counted).
func (p *Publisher) Publish(ctx context.Context) error {
	gauges, err := p.src.Snapshot(ctx)
	if err != nil {
		p.m.errors.WithLabelValues(StageSnapshot).Inc()
		p.log.Warn("reading pool gauges for CloudWatch failed", "error", err)
		return fmt.Errorf("cloudwatch: snapshot: %w", err)
	}
	data := Data(gauges, p.opts.Now())
	var errs []error
	for start := 0; start < len(data); start += p.opts.BatchSize {
		batch := data[start:min(start+p.opts.BatchSize, len(data))]
		if err := p.put(ctx, batch); err != nil {
			p.m.errors.WithLabelValues(StagePut).Inc()
			p.log.Warn("PutMetricData failed", "error", err, "datapoints", len(batch), "first", start)
			errs = append(errs, fmt.Errorf("cloudwatch: PutMetricData (%d data from #%d): %w", len(batch), start, err))
			continue
		}
		p.m.datapoints.Add(float64(len(batch)))
	}
	return errors.Join(errs...)
}

func (p *Publisher) put(ctx context.Context, batch []cwtypes.MetricDatum) error {
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	_, err := p.api.PutMetricData(ctx, &cw.PutMetricDataInput{
		Namespace:  aws.String(p.opts.Namespace),
		MetricData: batch,
	})
	return err
}

// Data turns gauges into metric data, four per pool, all stamped at.
func Data(gauges []PoolGauges, at time.Time) []cwtypes.MetricDatum {
	out := make([]cwtypes.MetricDatum, 0, 4*len(gauges))
	for _, g := range gauges {
		dims := []cwtypes.Dimension{{Name: aws.String(DimensionPool), Value: aws.String(g.Pool)}}
		for _, mv := range []struct {
			name string
			v    int
		}{
			{MetricQueueDepth, g.QueueDepth},
			{MetricBusyAgents, g.Busy},
			{MetricIdleAgents, g.Idle},
			{MetricStartingAgents, g.Starting},
		} {
			out = append(out, cwtypes.MetricDatum{
				MetricName: aws.String(mv.name),
				Dimensions: dims,
				Timestamp:  aws.Time(at),
				Value:      aws.Float64(float64(mv.v)),
				Unit:       cwtypes.StandardUnitCount,
			})
		}
	}
	return out
}
