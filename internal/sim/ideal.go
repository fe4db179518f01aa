package sim

import (
	"fmt"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/provider"
)

// PolicyIdeal names the ideal event-driven launcher.
const PolicyIdeal = "ideal"

// IdealPolicy is the reference every policy's wait is measured against: no controller, no
// standby, zero reaction time: one --once agent launched at the instant each job is queued
// (and again when an interrupted job is queued again), with the boot times every run draws
// (a job's agent boots in the same time in every run, see boots.go). What a job waits under it is what
// no launcher without standby can avoid: its agent's boot, and ADO handing the oldest queued
// job to whichever agent comes online first, so a job whose agent boots slowly is taken over by
// a later job's faster one.
func IdealPolicy() Policy {
	return Policy{
		Name:   PolicyIdeal,
		Source: "reference: an agent launched the instant each job is queued",
		Notes:  "no controller, zero reaction time, no standby; the jobs' waits here are the baseline of wait>ideal",
		Ideal:  true,
	}
}

// buildIdeal makes the Org and its pools for the ideal launcher: no store, no controller.
func (r *runner) buildIdeal() error {
	r.buildOrg()
	for _, name := range r.pools {
		id, err := r.org.AddPool(name)
		if err != nil {
			return fmt.Errorf("sim: add pool %q: %w", name, err)
		}
		r.ids[name] = id
		// ADO fails at once a job no agent of the pool, online or not, could run: the ideal
		// launcher keeps an offline placeholder offering the pool's capabilities, as adofleet does.
		if _, err := r.org.AddAgent(name, adosim.AgentSpec{Name: name + "-placeholder", UserCapabilities: r.caps[name]}); err != nil {
			return fmt.Errorf("sim: placeholder of pool %q: %w", name, err)
		}
	}
	return nil
}

// launchIdeal starts one agent for a job queued now.
func (r *runner) launchIdeal(pool string) error {
	req := provider.LaunchRequest{Pool: pool, Agents: []provider.AgentSpec{{Name: r.agentName(pool)}},
		Tags: map[string]string{provider.TagPool: pool}}
	if _, err := r.prov.Launch(r.ctx, req); err != nil {
		return fmt.Errorf("sim: ideal launch in pool %q: %w", pool, err)
	}
	return nil
}
