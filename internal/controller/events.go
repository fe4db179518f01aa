package controller

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/scaler"
)

// Defaults of the alert thresholds (Options.JobWaitThreshold, Options.PoolAtMaxThreshold).
const (
	DefaultJobWaitThreshold   = 10 * time.Minute
	DefaultPoolAtMaxThreshold = 15 * time.Minute
)

// publishTimeout bounds one Publish: it only writes the event to the outbox, and a slow outbox
// must not hold the cycle (a lost alert is better than a stalled pool).
const publishTimeout = 2 * time.Second

// alerts is a pool's memory of what it already reported, so each condition alerts once: guarded
// by pool.cycle, like the rest of the loop state.
type alerts struct {
	waited    map[int64]bool // job requests reported as waiting too long
	atMaxFrom time.Time      // when the pool was first seen at max with jobs queued; zero: not
	atMaxSent bool           // the current at-max episode was reported
}

// publish hands e to Options.Events, if set. It never fails the cycle: a failed publish is logged.
// The context is the cycle's without its cancellation, so an event about work already done is
// not lost to a shutdown arriving now.
func (cy *cycle) publish(ctx context.Context, e notify.Event) {
	pub := cy.c.opts.Events
	if pub == nil {
		return
	}
	e.Pool = cy.p.cfg.Name
	if e.Time.IsZero() {
		e.Time = cy.now
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := pub.Publish(pctx, e); err != nil {
		cy.c.m.publishFailures.WithLabelValues(cy.p.cfg.Name, string(e.Type)).Inc()
		cy.log.Warn("publishing an event failed", "event", e.Type, "err", err)
	}
}

// agentStartFailed reports an agent that did not start: the provider refused the launch, or the
// instance ended before the agent registered. Alerts with the same reason share a dedup key, so a
// broken image failing every launch is one alert per window, not one per agent.
func (cy *cycle) agentStartFailed(ctx context.Context, agent, reason string) {
	cy.publish(ctx, notify.Event{
		Type:     notify.AgentStartFailed,
		Severity: notify.SeverityError,
		Summary:  fmt.Sprintf("agent %s of pool %s failed to start: %s", agent, cy.p.cfg.Name, reason),
		Fields:   map[string]string{"agent": agent, "provider": cy.p.cfg.Provider, "reason": reason},
		DedupKey: string(notify.AgentStartFailed) + "/" + cy.p.cfg.Name + "/" + reason,
	})
}

// orphanTerminated reports an instance terminated because its agent never came (or went) online.
func (cy *cycle) orphanTerminated(ctx context.Context, instance, reason string) {
	cy.publish(ctx, notify.Event{
		Type:     notify.OrphanTerminated,
		Severity: notify.SeverityWarning,
		Summary:  fmt.Sprintf("instance %s of pool %s terminated: %s", instance, cy.p.cfg.Name, reason),
		Fields:   map[string]string{"instance": instance, "reason": reason},
	})
}

// alertWaits reports each queued job that has waited longer than the threshold, once per job
// request, and forgets the requests that are no longer queued.
func (cy *cycle) alertWaits(ctx context.Context) {
	threshold := cy.c.opts.JobWaitThreshold
	if cy.c.opts.Events == nil || threshold < 0 {
		return
	}
	a := &cy.p.alerts
	queued := make(map[int64]bool, len(cy.obs.jobs))
	for _, j := range cy.obs.jobs {
		if !j.Queued() {
			continue
		}
		queued[j.RequestID] = true
		waited := cy.now.Sub(j.QueueTime)
		if waited < threshold || a.waited[j.RequestID] {
			continue
		}
		if a.waited == nil {
			a.waited = map[int64]bool{}
		}
		a.waited[j.RequestID] = true
		id := strconv.FormatInt(j.RequestID, 10)
		fields := map[string]string{
			"jobRequestId": id,
			"waited":       waited.Round(time.Second).String(),
			"threshold":    threshold.String(),
		}
		summary := fmt.Sprintf("job request %s has waited %s for an agent in pool %s", id, waited.Round(time.Second), cy.p.cfg.Name)
		if j.JobName != "" {
			// The job's name; the pipeline's is not in the job-request list, so "pipeline" stays unset.
			fields["job"] = j.JobName
			summary = fmt.Sprintf("job %q (request %s) has waited %s for an agent in pool %s", j.JobName, id, waited.Round(time.Second), cy.p.cfg.Name)
		}
		cy.publish(ctx, notify.Event{
			Type: notify.JobWaitedLong, Severity: notify.SeverityWarning, Summary: summary, Fields: fields,
			DedupKey: string(notify.JobWaitedLong) + "/" + cy.p.cfg.Name + "/" + id,
		})
	}
	for id := range a.waited {
		if !queued[id] {
			delete(a.waited, id)
		}
	}
}

// alertAtMax reports a pool that has been at its max, with jobs queued, for longer than the
// threshold: once per episode, and again only after the condition has cleared.
func (cy *cycle) alertAtMax(ctx context.Context, snap scaler.Snapshot) {
	threshold := cy.c.opts.PoolAtMaxThreshold
	if cy.c.opts.Events == nil || threshold < 0 {
		return
	}
	a := &cy.p.alerts
	limit := cy.p.cfg.Policy.Max
	capacity := len(snap.Instances) + snap.Launching
	queued := cy.res.Counts.QueuedJobs
	if limit <= 0 || capacity < limit || queued == 0 {
		a.atMaxFrom, a.atMaxSent = time.Time{}, false
		return
	}
	if a.atMaxFrom.IsZero() {
		a.atMaxFrom = cy.now
	}
	if a.atMaxSent || cy.now.Sub(a.atMaxFrom) < threshold {
		return
	}
	a.atMaxSent = true
	since := a.atMaxFrom.UTC().Format(time.RFC3339)
	cy.publish(ctx, notify.Event{
		Type:     notify.PoolAtMax,
		Severity: notify.SeverityWarning,
		Summary: fmt.Sprintf("pool %s has been at its max of %d agents with %d jobs queued since %s",
			cy.p.cfg.Name, limit, queued, since),
		Fields:   map[string]string{"max": strconv.Itoa(limit), "queued": strconv.Itoa(queued), "since": since},
		DedupKey: string(notify.PoolAtMax) + "/" + cy.p.cfg.Name + "/" + since,
	})
}
