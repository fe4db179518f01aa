package sim

import (
	"hash/fnv"
	"math/rand/v2"
	"time"
)

// Boot times are tied to jobs, so that a job's agent boots in the same time under every policy
// and under the ideal launcher: each pool draws one boot per queued job, in queue order, from a
// stream of its own. A launch gets the boot of the oldest queued job that no launch has covered
// yet and that has not started (the controller launches one agent per such job), or, when there
// is none (a standby launch), a draw from the pool's spare stream. Attempts queued again after an
// interruption draw from the spare stream too: they differ between runs.

// poolBoots is one pool's boot draws.
type poolBoots struct {
	jobs, spare *rand.Rand
	nJobs       int   // job draws so far (BootSequence index)
	nSpare      int   // spare draws so far
	uncovered   []int // trace indexes, queue order; covered or started ones are skipped lazily
}

func (r *runner) poolBoots(pool string) *poolBoots {
	b := r.boots[pool]
	if b == nil {
		h := fnv.New64a()
		_, _ = h.Write([]byte(pool))
		seed := h.Sum64()
		b = &poolBoots{
			jobs:  rand.New(rand.NewPCG(r.cfg.Seed, seed)),
			spare: rand.New(rand.NewPCG(r.cfg.Seed, seed^0x5ba7e)),
		}
		r.boots[pool] = b
	}
	return b
}

// queuedFor draws the boot of trace job idx's attempt queued now; again marks a retry.
func (r *runner) queuedFor(idx int, again bool) {
	b := r.poolBoots(r.cfg.Jobs[idx].Pool)
	jr := &r.jobs[idx]
	if again {
		jr.ownBoot = r.spareBoot(b)
	} else {
		jr.ownBoot = r.draw(b.jobs, b.nJobs)
		b.nJobs++
	}
	jr.covered = false
	b.uncovered = append(b.uncovered, idx)
}

// bootForLaunch is the boot time of one agent launched in pool now.
func (r *runner) bootForLaunch(pool string) time.Duration {
	b := r.poolBoots(pool)
	for len(b.uncovered) > 0 {
		idx := b.uncovered[0]
		b.uncovered = b.uncovered[1:]
		if jr := &r.jobs[idx]; !jr.covered {
			jr.covered = true
			return jr.ownBoot
		}
	}
	return r.spareBoot(b)
}

func (r *runner) spareBoot(b *poolBoots) time.Duration {
	d := r.draw(b.spare, b.nSpare)
	b.nSpare++
	return d
}

// draw is the k-th draw of a stream: Config.BootSequence[k mod len] if set, else from Boot.
func (r *runner) draw(rnd *rand.Rand, k int) time.Duration {
	if seq := r.cfg.BootSequence; len(seq) > 0 {
		return seq[k%len(seq)]
	}
	return r.cfg.Boot.draw(rnd)
}
