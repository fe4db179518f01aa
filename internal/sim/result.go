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
	// Wait is queue to start; WaitBeyondBoot is the wait less the boot time of the instance that
	// ran the job (never below 0): the delay the scaling decision added.
	Wait           Summary `json:"wait"`
	WaitBeyondBoot Summary `json:"waitBeyondBoot"`
	// BusyMinutes is agent time spent on jobs, IdleMinutes the rest of the instances' lifetime
	// (boot included), from launch to end (or to the end of the run).
	BusyMinutes float64 `json:"busyMinutes"`
	IdleMinutes float64 `json:"idleMinutes"`
	Cost        float64 `json:"cost"`
	IdleCost    float64 `json:"idleCost"`
	// ADOCalls counts the controller's ADO REST calls (agents' own calls excluded).
	ADOCalls      int     `json:"adoCalls"`
	Cycles        int     `json:"cycles"`
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

// finish books instances still alive and summarises the run.
func (r *runner) finish() Result {
	res := r.res
	for _, in := range r.prov.insts {
		if in.State.Alive() {
			res.instanceTime += r.now.Sub(in.LaunchedAt)
		}
	}
	var waits, beyond []float64
	for _, j := range r.jobs {
		if j.failed || !j.finished {
			continue
		}
		w := j.started.Sub(j.queued)
		waits = append(waits, w.Seconds())
		beyond = append(beyond, max(w-j.boot, 0).Seconds())
	}
	res.Jobs = len(r.cfg.Jobs)
	res.Wait, res.WaitBeyondBoot = summarize(waits), summarize(beyond)
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
