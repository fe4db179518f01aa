package sim

import (
	"fmt"

	"github.com/adofleet/adofleet/internal/adosim"
)

// boot registers the instance's agent: it goes online and may be handed a job at once.
func (r *runner) boot(id string) error {
	in := r.prov.insts[id]
	if in == nil || !in.State.Alive() {
		return nil // terminated while booting
	}
	a := &simAgent{name: in.AgentName, pool: in.Pool, inst: in}
	r.agents[a.name] = a
	caps := map[string]string{"Agent.Name": a.name}
	for k, v := range r.caps[a.pool] {
		caps[k] = v
	}
	if err := a.register(r.ctx, r.api, r.ids[a.pool], caps); err != nil {
		// The controller may have deleted the name meanwhile; the instance exits.
		r.log.Warn("agent failed to register", "agent", a.name, "err", err)
		r.setState(a, agentGone)
		r.prov.end(in, "agent failed to register")
		return nil
	}
	r.setState(a, agentIdle)
	return nil
}

// setState moves a to s, keeping count of the idle agents.
func (r *runner) setState(a *simAgent, s agentState) {
	if a.state == agentIdle {
		r.idle--
	}
	if s == agentIdle {
		r.idle++
	}
	a.state = s
}

// dispatch starts the jobs the Org has assigned to idle agents. With none idle there is nothing
// to look at: listing the pool's agents after every event is most of a long run's time.
func (r *runner) dispatch() error {
	if r.idle == 0 {
		return nil
	}
	for _, pool := range r.pools {
		for _, info := range r.org.Agents(pool) {
			if info.AssignedRequest == 0 {
				continue
			}
			a := r.agents[info.Name]
			if a == nil || a.state != agentIdle {
				continue
			}
			if err := r.start(a); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *runner) start(a *simAgent) error {
	jm, err := a.receive(r.ctx, r.api, r.ids[a.pool])
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	idx, ok := r.byReq[jm.RequestID]
	if !ok {
		return fmt.Errorf("sim: agent %q got request %d, which no trace job queued", a.name, jm.RequestID)
	}
	r.setState(a, agentBusy)
	a.job, a.jobIdx = jm, idx
	jr := &r.jobs[idx]
	jr.started, jr.boot, jr.covered = r.now, a.inst.boot, true
	r.q.schedule(&event{at: r.now.Add(r.cfg.Jobs[idx].Duration), kind: evFinish, name: a.name})
	return nil
}

// jobDone ends the agent's job. A --once agent closes its session first (as the agent does) and
// exits, ending its instance.
func (r *runner) jobDone(name string) error {
	a := r.agents[name]
	if a == nil || a.state != agentBusy {
		return nil // killed meanwhile
	}
	poolID := r.ids[a.pool]
	once := !r.cfg.Policy.ReuseAgents
	if once {
		if err := a.closeSession(r.ctx, r.api, poolID); err != nil {
			return fmt.Errorf("sim: %w", err)
		}
	}
	if err := a.finish(r.ctx, r.api, poolID, "succeeded"); err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	r.jobs[a.jobIdx].finished = true
	r.res.busyTime += r.cfg.Jobs[a.jobIdx].Duration
	r.open--
	a.job = adosim.JobMessage{}
	if once {
		r.setState(a, agentGone)
		r.prov.end(a.inst, "agent exited after its job")
		if r.cfg.Policy.Ideal { // no controller deletes it; the ideal launcher cleans up at once
			if err := r.api.DeleteAgent(r.ctx, poolID, a.id); err != nil {
				return fmt.Errorf("sim: delete agent %q: %w", a.name, err)
			}
		}
		return nil
	}
	r.setState(a, agentIdle)
	return nil
}

// interrupt is a spot interruption: the instance dies with its agent.
func (r *runner) interrupt(id string) {
	in := r.prov.insts[id]
	if in == nil || !in.State.Alive() {
		return
	}
	r.res.Interruptions++
	a := r.agents[in.AgentName]
	busy := a != nil && a.state == agentBusy
	r.killAgent(in, "spot interruption")
	if r.cfg.Policy.Ideal && !busy {
		// The agent was booting or idle, its job still queued: the ideal launcher replaces it at
		// once (a busy one's job is queued again, which launches its own).
		if err := r.launchIdeal(in.Pool); err != nil {
			r.log.Warn("replacing an interrupted agent failed", "pool", in.Pool, "err", err)
		}
	}
}

// killAgent ends an instance and its agent process. A job it was running fails and is queued
// again (a retry): the controller must never cause this, an interruption may.
func (r *runner) killAgent(in *instance, reason string) {
	a := r.agents[in.AgentName]
	if a != nil && a.state != agentGone {
		poolID := r.ids[a.pool]
		if a.state == agentBusy {
			if reason != "spot interruption" {
				r.res.BusyKilled++
			}
			r.res.busyTime += r.now.Sub(r.jobs[a.jobIdx].started)
			// ADO fails a job whose agent is lost; the pipeline's retry queues it again.
			if err := a.finish(r.ctx, r.api, poolID, "failed"); err != nil {
				r.log.Warn("failing the lost job", "agent", a.name, "err", err)
			}
			r.requeue(a.jobIdx)
		}
		if err := a.closeSession(r.ctx, r.api, poolID); err != nil {
			r.log.Debug("session already gone", "agent", a.name, "err", err)
		}
		r.setState(a, agentGone)
	}
	r.prov.end(in, reason)
}

// requeue queues trace job idx again after its agent was lost.
func (r *runner) requeue(idx int) {
	r.res.Retried++
	j := r.cfg.Jobs[idx]
	id, err := r.org.QueueJob(j.Pool, adosim.JobSpec{Demands: j.Demands, Duration: j.Duration})
	if err != nil {
		r.log.Warn("requeue failed", "job", idx+1, "err", err)
		return
	}
	r.byReq[id] = idx
	r.jobs[idx].queued = r.now
	r.queuedFor(idx, true)
	if err := r.react(idx); err != nil {
		r.log.Warn("reacting to the requeued job failed", "job", idx+1, "err", err)
	}
}
