package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/controller"
)

// demoSummary is what `adofleet demo --jobs N` reports.
type demoSummary struct {
	Jobs            int     `json:"jobs"`
	Succeeded       int     `json:"succeeded"`
	Failed          int     `json:"failed"`
	Lost            int     `json:"lost"`      // queued but never finished
	RanTwice        int     `json:"ran_twice"` // delivered to more than one agent
	AgentsLaunched  int     `json:"agents_launched"`
	AgentsLeft      int     `json:"agents_left"` // agents still in the pool besides the placeholder and standby
	MeanWaitSeconds float64 `json:"mean_wait_seconds"`
	P95WaitSeconds  float64 `json:"p95_wait_seconds"`
	MaxWaitSeconds  float64 `json:"max_wait_seconds"`
	IdleAgentSecs   float64 `json:"idle_agent_seconds"`
	ElapsedSeconds  float64 `json:"elapsed_seconds"`
	OK              bool    `json:"ok"`
	Problem         string  `json:"problem,omitempty"`
}

// summarize reads the simulator's record of every job and agent. Wait is from queue time to the
// moment the job was delivered to its agent.
func summarize(jobs []adosim.JobInfo, agents []adosim.AgentInfo, standby, launched int, idleSeconds float64, elapsed time.Duration) demoSummary {
	s := demoSummary{Jobs: len(jobs), AgentsLaunched: launched, IdleAgentSecs: round(idleSeconds), ElapsedSeconds: round(elapsed.Seconds())}
	var waits []float64
	for _, j := range jobs {
		switch {
		case j.State != adosim.JobFinished:
			s.Lost++
		case j.Result == "succeeded":
			s.Succeeded++
		default:
			s.Failed++
		}
		if j.Starts > 1 {
			s.RanTwice++
		}
		if !j.ReceiveTime.IsZero() {
			waits = append(waits, j.ReceiveTime.Sub(j.QueueTime).Seconds())
		}
	}
	for _, a := range agents {
		if a.Name != controller.PlaceholderName(demoPool) {
			s.AgentsLeft++
		}
	}
	s.AgentsLeft = max(0, s.AgentsLeft-standby) // standby agents are meant to stay
	if len(waits) > 0 {
		sort.Float64s(waits)
		var sum float64
		for _, w := range waits {
			sum += w
		}
		s.MeanWaitSeconds = round(sum / float64(len(waits)))
		s.P95WaitSeconds = round(waits[int(math.Ceil(0.95*float64(len(waits))))-1])
		s.MaxWaitSeconds = round(waits[len(waits)-1])
	}
	var problems []string
	if s.Lost > 0 {
		problems = append(problems, fmt.Sprintf("%d job(s) lost", s.Lost))
	}
	if s.Failed > 0 {
		problems = append(problems, fmt.Sprintf("%d job(s) failed", s.Failed))
	}
	if s.RanTwice > 0 {
		problems = append(problems, fmt.Sprintf("%d job(s) ran twice", s.RanTwice))
	}
	if s.AgentsLeft > 0 {
		problems = append(problems, fmt.Sprintf("%d agent(s) left in the pool", s.AgentsLeft))
	}
	s.Problem = strings.Join(problems, "; ")
	s.OK = s.Problem == ""
	return s
}

func round(f float64) float64 { return math.Round(f*1000) / 1000 }

// report prints the summary and turns a failed run into exit code 1.
func (d *demo) report(out io.Writer, started time.Time, idleSeconds float64, runErr error) error {
	launched := d.launchedCount()
	s := summarize(d.org.Jobs(), d.org.Agents(demoPool), d.opts.standby, launched, idleSeconds, time.Since(started))
	if runErr != nil {
		s.OK = false
		s.Problem = strings.TrimPrefix(strings.Join([]string{runErr.Error(), s.Problem}, "; "), "; ")
		s.Problem = strings.TrimSuffix(s.Problem, "; ")
	}
	if d.opts.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(s); err != nil {
			return err
		}
	} else {
		printSummary(out, s)
	}
	if !s.OK {
		return exitCodeError{code: 1, err: fmt.Errorf("demo failed: %s", s.Problem)}
	}
	return nil
}

// launchedCount is the number of agents the controller recorded an intent to launch (records of
// agents that are gone are kept for an hour, longer than any demo run).
func (d *demo) launchedCount() int {
	recs, err := d.store.ListAgents(context.Background(), demoPool)
	if err != nil {
		d.log.Warn("count launched agents", "err", err)
		return 0
	}
	return len(recs)
}

func printSummary(w io.Writer, s demoSummary) {
	status := "ok"
	if !s.OK {
		status = "FAILED: " + s.Problem
	}
	fmt.Fprintf(w, `adofleet demo summary
  jobs                %d (%d succeeded, %d failed, %d lost, %d ran twice)
  agents launched     %d (left in pool: %d)
  wait queue->start   mean %.2fs  p95 %.2fs  max %.2fs
  idle agent-seconds  %.1f
  elapsed             %.1fs
  result              %s
`, s.Jobs, s.Succeeded, s.Failed, s.Lost, s.RanTwice, s.AgentsLaunched, s.AgentsLeft,
		s.MeanWaitSeconds, s.P95WaitSeconds, s.MaxWaitSeconds, s.IdleAgentSecs, s.ElapsedSeconds, status)
}
