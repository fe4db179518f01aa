package adosim

// An internal benchmark: assignLocked, the Org's hot path (it runs on every queued job, finished
// job and new session), is not reachable from the API without also measuring the HTTP calls
// that bring agents online.

import (
	"fmt"
	"testing"
)

// assignBench is an Org with n online, enabled, idle agents and n queued jobs that assignLocked
// has not run on yet, and what reset needs to put it back.
type assignBench struct {
	o     *Org
	queue []int64
}

func newAssignBench(b *testing.B, n int) *assignBench {
	b.Helper()
	o := NewOrg(OrgOptions{Seed: 1})
	if _, err := o.AddPool("p"); err != nil {
		b.Fatalf("AddPool: %v", err)
	}
	caps := map[string]string{"docker": "/usr/bin/docker", "Agent.OS": "Linux", "Agent.Version": SimAgentVersion}
	var ids []int
	for i := range n {
		// Disabled while the jobs are queued, so that nothing is assigned before the benchmark.
		id, err := o.AddAgent("p", AgentSpec{Name: fmt.Sprintf("agent-%05d", i), SystemCapabilities: caps, Disabled: true})
		if err != nil {
			b.Fatalf("AddAgent: %v", err)
		}
		ids = append(ids, id)
	}
	o.mu.Lock()
	for _, id := range ids {
		if _, err := o.createSessionLocked(1, id, "bench"); err != nil {
			b.Fatalf("createSession: %v", err)
		}
	}
	o.mu.Unlock()
	demands := [][]string{{"docker"}, {"Agent.OS -equals Linux", "Agent.Version -gtVersion 2.163.1"}, nil}
	for i := range n {
		if _, err := o.QueueJob("p", JobSpec{Demands: demands[i%len(demands)]}); err != nil {
			b.Fatalf("QueueJob: %v", err)
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.queue) != n {
		b.Fatalf("queued: got %d, want %d", len(o.queue), n)
	}
	for _, a := range o.agents {
		a.enabled = true
	}
	return &assignBench{o: o, queue: append([]int64(nil), o.queue...)}
}

// reset undoes one assignLocked: every job queued again, every agent idle, no messages.
func (s *assignBench) reset() {
	for _, j := range s.o.jobs {
		j.agentID, j.lockToken, j.messageID = 0, "", 0
	}
	for _, a := range s.o.agents {
		a.assigned = 0
	}
	for _, sess := range s.o.sessions {
		sess.messages = sess.messages[:0]
	}
	s.o.queue = append(s.o.queue[:0], s.queue...)
}

// BenchmarkAssign is one pass of ADO's assignment rule over 1,000 queued jobs (a mix of demands)
// and 1,000 idle agents that satisfy them: every job finds an agent.
func BenchmarkAssign(b *testing.B) {
	const n = 1_000
	s := newAssignBench(b, n)
	s.o.mu.Lock()
	defer s.o.mu.Unlock()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		s.reset()
		b.StartTimer()
		s.o.assignLocked()
	}
	if got := len(s.o.queue); got != 0 {
		b.Fatalf("jobs left queued: got %d, want 0", got)
	}
}

// BenchmarkQueueJobs queues 1,000 jobs one at a time into a pool of 1,000 idle agents through the
// API, as a burst arrives: each QueueJob runs the unmatchable-job check and an assignment pass,
// so this is the hot path's cost per event at that pool size.
func BenchmarkQueueJobs(b *testing.B) {
	const n = 1_000
	caps := map[string]string{"docker": "/usr/bin/docker"}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		o := NewOrg(OrgOptions{Seed: 1})
		if _, err := o.AddPool("p"); err != nil {
			b.Fatalf("AddPool: %v", err)
		}
		for i := range n {
			id, err := o.AddAgent("p", AgentSpec{Name: fmt.Sprintf("agent-%05d", i), SystemCapabilities: caps})
			if err != nil {
				b.Fatalf("AddAgent: %v", err)
			}
			o.mu.Lock()
			_, err = o.createSessionLocked(1, id, "bench")
			o.mu.Unlock()
			if err != nil {
				b.Fatalf("createSession: %v", err)
			}
		}
		b.StartTimer()
		for range n {
			if _, err := o.QueueJob("p", JobSpec{Demands: []string{"docker"}}); err != nil {
				b.Fatalf("QueueJob: %v", err)
			}
		}
		b.StopTimer()
		if got := len(o.queue); got != 0 {
			b.Fatalf("jobs left queued: got %d, want 0", got)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/job")
}
