package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/promreg"
)

// demoCollector exports the demo's own workload and faults on /metrics, so that a soak harness
// reads everything (the process, the controller, the jobs) from one scrape. Values are read at
// scrape time from the simulator and the injector.
type demoCollector struct {
	d          *demo
	queued     *prometheus.Desc
	finished   *prometheus.Desc
	unfinished *prometheus.Desc
	ranTwice   *prometheus.Desc
	agents     *prometheus.Desc
	faults     *prometheus.Desc
}

func registerDemoMetrics(reg prometheus.Registerer, d *demo) error {
	c := &demoCollector{
		d: d,
		queued: prometheus.NewDesc("adofleet_demo_jobs_queued_total",
			"Jobs the demo's generator queued.", nil, nil),
		finished: prometheus.NewDesc("adofleet_demo_jobs_finished_total",
			"Jobs finished in the simulator, by result (succeeded, failed: any other result).", []string{"result"}, nil),
		unfinished: prometheus.NewDesc("adofleet_demo_jobs_unfinished",
			"Jobs queued or running in the simulator now.", nil, nil),
		ranTwice: prometheus.NewDesc("adofleet_demo_jobs_ran_twice_total",
			"Finished jobs that were delivered to more than one agent.", nil, nil),
		agents: prometheus.NewDesc("adofleet_demo_agent_processes",
			"Simulated agent processes the local provider has alive.", nil, nil),
		faults: prometheus.NewDesc("adofleet_demo_faults_injected_total",
			"Faults injected by --faults, by kind.", []string{"fault"}, nil),
	}
	if _, err := promreg.Register(reg, prometheus.Collector(c)); err != nil {
		return err
	}
	return nil
}

func (c *demoCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.queued, c.finished, c.unfinished, c.ranTwice, c.agents, c.faults} {
		ch <- d
	}
}

func (c *demoCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.d.jobCounts()
	ch <- prometheus.MustNewConstMetric(c.queued, prometheus.CounterValue, float64(n.queued))
	ch <- prometheus.MustNewConstMetric(c.finished, prometheus.CounterValue, float64(n.succeeded), "succeeded")
	ch <- prometheus.MustNewConstMetric(c.finished, prometheus.CounterValue, float64(n.failed), "failed")
	ch <- prometheus.MustNewConstMetric(c.unfinished, prometheus.GaugeValue, float64(n.unfinished))
	ch <- prometheus.MustNewConstMetric(c.ranTwice, prometheus.CounterValue, float64(n.ranTwice))
	if c.d.local != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if insts, err := c.d.local.List(ctx, demoPool); err == nil {
			alive := 0
			for _, in := range insts {
				if in.State.Alive() {
					alive++
				}
			}
			ch <- prometheus.MustNewConstMetric(c.agents, prometheus.GaugeValue, float64(alive))
		}
	}
	for fault, v := range c.d.faults.counts() {
		ch <- prometheus.MustNewConstMetric(c.faults, prometheus.CounterValue, float64(v), fault)
	}
}
