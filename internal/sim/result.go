package sim

import (
	"math"
	"slices"
	"time"
)

// Result is what one run measured.
type Result struct {
	Policy string `json:"policy"`
	Jobs   int    `json:"jobs"`
	// Failed counts jobs ADO failed at once (no agent could ever satisfy their demands).
	Failed int `json:"failed"`
	// Wait is each job's wait, from its queue time (of its latest attempt) to an agent starting it.
	Wait Summary `json:"wait"`
	// WaitBeyondIdeal is the primary measure: each job's wait less its wait under the ideal
	// launcher (IdealPolicy) with the same boot draws, never below 0: what the policy added to
	// what no launcher without standby avoids. A policy with standby agents can do better than the
	// ideal launcher on a job; that job counts 0, so gains on one job never hide delay on another.
	WaitBeyondIdeal Summary `json:"waitBeyondIdeal"`
	// IdealWait is the same jobs' waits under the ideal launcher (for the ideal policy itself, its
	// Wait).
	IdealWait Summary `json:"idealWait"`
	// WaitBeyondBoot is each job's wait less the boot time of the instance that ran it (never
	// below 0). It charges the policy with ADO's reshuffle too: a job whose agent boots slowly is
	// taken by a later job's faster agent, and waits for the gap between their queue times.
	WaitBeyondBoot Summary `json:"waitBeyondBoot"`
	// BusyMinutes is agent time spent on jobs, IdleMinutes the rest of the instances' lifetime
	// (boot included), from launch to end (or to the end of the run).
	BusyMinutes float64 `json:"busyMinutes"`
	IdleMinutes float64 `json:"idleMinutes"`
	Cost        float64 `json:"cost"`
	IdleCost    float64 `json:"idleCost"`
	// ADOCalls counts the controller's ADO REST calls (agents' own calls excluded).
	ADOCalls int `json:"adoCalls"`
	// Cycles counts controller cycles; Wakeups the queued-job events that reached the
	// controller, and WakeCycles the cycles they ran (fewer: they coalesce).
	Cycles        int     `json:"cycles"`
	Wakeups       int     `json:"wakeups"`
	WakeCycles    int     `json:"wakeCycles"`
	CycleErrors   int     `json:"cycleErrors"`
	Instances     int     `json:"instances"`
	Interruptions int     `json:"interruptions"`
	Retried       int     `json:"retried"`
	BusyKilled    int     `json:"busyKilled"` // must stay 0: the controller never kills a busy agent
	Oracle        Oracle  `json:"oracle"`
	Span          float64 `json:"spanHours"` // virtual time simulated

	busyTime     time.Duration
	instanceTime time.Duration
}

// Summary is a distribution in seconds.
type Summary struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	Max  float64 `json:"max"`
}

// Oracle is the lower bound: an agent started exactly one boot time before each job, at the
// shortest boot the distribution allows, and gone when the job ends. No wait; the idle time is
// one boot per job.
type Oracle struct {
	BusyMinutes float64 `json:"busyMinutes"`
	IdleMinutes float64 `json:"idleMinutes"`
	Cost        float64 `json:"cost"`
	IdleCost    float64 `json:"idleCost"`
}

// OracleFor is the lower bound for jobs at price per instance-hour with boot times from boot.
func OracleFor(jobs []Job, boot BootDist, price float64) Oracle {
	var busy time.Duration
	for _, j := range jobs {
		busy += j.Duration
	}
	idle := time.Duration(len(jobs)) * boot.Min
	return Oracle{
		BusyMinutes: busy.Minutes(), IdleMinutes: idle.Minutes(),
		Cost: (busy + idle).Hours() * price, IdleCost: idle.Hours() * price,
	}
}

// finish books instances still alive and summarises the run. ideal holds the same jobs under
// the ideal launcher (nil: this is the ideal run).
func (r *runner) finish(ideal []jobRun) Result {
	res := r.res
	for _, in := range r.prov.insts {
		if in.State.Alive() {
			res.instanceTime += r.now.Sub(in.LaunchedAt)
		}
	}
	var waits, beyondBoot, beyondIdeal, idealWaits []float64
	for i, j := range r.jobs {
		if !j.ran() {
			continue
		}
		w := j.wait()
		waits = append(waits, w.Seconds())
		beyondBoot = append(beyondBoot, max(w-j.boot, 0).Seconds())
		switch {
		case ideal == nil:
			beyondIdeal = append(beyondIdeal, 0)
			idealWaits = append(idealWaits, w.Seconds())
		case ideal[i].ran():
			beyondIdeal = append(beyondIdeal, max(w-ideal[i].wait(), 0).Seconds())
			idealWaits = append(idealWaits, ideal[i].wait().Seconds())
		}
	}
	res.Jobs = len(r.cfg.Jobs)
	res.Wait, res.WaitBeyondBoot = summarize(waits), summarize(beyondBoot)
	res.WaitBeyondIdeal, res.IdealWait = summarize(beyondIdeal), summarize(idealWaits)
	price := r.cfg.PricePerHour
	res.BusyMinutes = res.busyTime.Minutes()
	idle := res.instanceTime - res.busyTime
	res.IdleMinutes = idle.Minutes()
	res.Cost = res.instanceTime.Hours() * price
	res.IdleCost = idle.Hours() * price
	res.Oracle = OracleFor(r.cfg.Jobs, r.cfg.Boot, price)
	res.Span = r.now.Sub(r.cfg.Jobs[0].QueueTime.Add(-warmUp)).Hours()
	return res
}

func (j jobRun) ran() bool           { return j.finished && !j.failed }
func (j jobRun) wait() time.Duration { return j.started.Sub(j.queued) }

// summarize gives mean, nearest-rank p50 and p95, and max.
func summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	sum := 0.0
	for _, x := range s {
		sum += x
	}
	rank := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(s)))) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	return Summary{Mean: sum / float64(len(s)), P50: rank(0.5), P95: rank(0.95), Max: s[len(s)-1]}
}
