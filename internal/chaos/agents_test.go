package chaos

import (
	"fmt"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/provider"
)

type agentState int

const (
	booting agentState = iota
	idle               // online, no job
	busy               // running a job
	gone               // its process ended
)

// agent is the agent process on one instance. It makes the Azure Pipelines agent's calls over
// ADO's wire contract through a server without faults (the faults are the controller's), and is
// stepped by the world on the virtual clock rather than polling.
type agent struct {
	name, pool string
	instID     string
	once       bool
	state      agentState
	bootAt     time.Time
	id         int
	session    string
	job        adosim.JobMessage
	work       *work
	finishAt   time.Time
}

// work is one pipeline job: it is queued again (a retry) when its agent is lost under it, and
// it is done when a run of it succeeds.
type work struct {
	n        int
	pool     string
	duration time.Duration
	req      int64 // the current request
	queued   time.Time
	attempts int
	done     bool
}

// stepAgents boots the agents that are due, hands the jobs ADO assigned to idle agents, and
// finishes the jobs that are done.
func (w *world) stepAgents() {
	now := time.Now()
	for _, name := range w.agentOrder {
		a := w.agents[name]
		switch a.state {
		case booting:
			if !now.Before(a.bootAt) {
				w.boot(a)
			}
		case busy:
			if !now.Before(a.finishAt) {
				w.finishJob(a)
			}
		}
	}
	w.dispatch()
	w.pruneAgents()
}

func (w *world) boot(a *agent) {
	inst, ok := w.prov.Instance(a.instID)
	switch {
	case !ok || !inst.State.Alive():
		a.state = gone
		return
	case inst.State == provider.StatePending: // a late start: wait for it
		a.bootAt = time.Now().Add(w.step)
		return
	}
	poolID := w.poolIDs[a.pool]
	caps := map[string]string{"Agent.Name": a.name, demand: "true"}
	id, err := w.api.AddAgent(w.ctx, poolID, adosim.AgentRegistration{Name: a.name, ProvisioningState: "Provisioned", Capabilities: caps})
	if err == nil {
		a.id = id
		a.session, err = w.api.CreateSession(w.ctx, poolID, id, a.name)
	}
	if err != nil {
		// The real agent exits and so does its --once container.
		w.logf("agent %s failed to register: %v", a.name, err)
		a.state = gone
		_ = w.prov.MarkTerminated(a.instID, "agent failed to register")
		return
	}
	a.state = idle
}

// dispatch starts the jobs ADO assigned to idle agents.
func (w *world) dispatch() {
	for _, p := range w.pools {
		for _, info := range w.org.Agents(p.name) {
			if info.AssignedRequest == 0 {
				continue
			}
			if a := w.agents[info.Name]; a != nil && a.state == idle {
				w.receive(a)
			}
		}
	}
}

func (w *world) receive(a *agent) {
	poolID := w.poolIDs[a.pool]
	msg, err := w.api.GetMessage(w.ctx, poolID, a.session, 0)
	if err != nil || msg == nil || msg.Type != adosim.JobMessageType {
		w.violate("agent %s: assigned a job but got message %+v, %v", a.name, msg, err)
		return
	}
	jm, err := msg.Job()
	if err != nil {
		w.violate("agent %s: decode job message: %v", a.name, err)
		return
	}
	if err := w.api.DeleteMessage(w.ctx, poolID, a.session, msg.ID); err != nil {
		w.violate("agent %s: acknowledge message: %v", a.name, err)
		return
	}
	wk := w.byReq[jm.RequestID]
	if wk == nil {
		w.violate("agent %s got request %d, which no job of the test queued", a.name, jm.RequestID)
		return
	}
	a.state, a.job, a.work, a.finishAt = busy, jm, wk, time.Now().Add(wk.duration)
}

// finishJob ends a's job successfully; a one-job agent closes its session first (so ADO gives it
// no second job) and exits, ending its instance.
func (w *world) finishJob(a *agent) {
	poolID := w.poolIDs[a.pool]
	if a.once {
		w.closeSession(a)
	}
	if err := w.api.UpdateRequest(w.ctx, poolID, a.job, "succeeded"); err != nil {
		w.violate("agent %s: finish request %d: %v", a.name, a.job.RequestID, err)
	}
	a.work.done = true
	w.finished++
	a.job, a.work = adosim.JobMessage{}, nil
	if !a.once {
		a.state = idle
		return
	}
	a.state = gone
	_ = w.prov.MarkTerminated(a.instID, "agent exited after its job")
}

// kill ends a's process with its instance. A job it held fails and is queued again, as a
// pipeline retry does. byController says the controller terminated the instance: then a job on
// it is a broken invariant, not bad luck.
func (w *world) kill(a *agent, why string, byController bool) {
	if a.state == gone {
		return
	}
	poolID := w.poolIDs[a.pool]
	if info, ok := w.orgAgent(a.pool, a.name); ok && info.AssignedRequest != 0 {
		if byController {
			w.violate("busy agent killed: the controller terminated instance %s of agent %s while it held request %d",
				a.instID, a.name, info.AssignedRequest)
		}
		if a.state == idle {
			w.receive(a) // assigned but not yet fetched: fetch it to fail it
		}
	}
	if a.state == busy {
		if err := w.api.UpdateRequest(w.ctx, poolID, a.job, "failed"); err != nil {
			w.logf("failing the job of lost agent %s: %v", a.name, err)
		}
		w.failedByLoss[a.job.RequestID] = true
		w.requeue(a.work, fmt.Sprintf("agent %s lost: %s", a.name, why))
		a.job, a.work = adosim.JobMessage{}, nil
	}
	w.closeSession(a)
	a.state = gone
}

func (w *world) closeSession(a *agent) {
	if a.session == "" {
		return
	}
	if err := w.api.DeleteSession(w.ctx, w.poolIDs[a.pool], a.session); err != nil {
		w.logf("close session of %s: %v", a.name, err)
	}
	a.session = ""
}

// pruneAgents forgets gone agents so that each step walks only live ones.
func (w *world) pruneAgents() {
	kept := w.agentOrder[:0]
	for _, name := range w.agentOrder {
		if w.agents[name].state == gone {
			delete(w.agents, name)
			continue
		}
		kept = append(kept, name)
	}
	w.agentOrder = kept
}

// orgAgent returns ADO's view of the named agent of pool.
func (w *world) orgAgent(pool, name string) (adosim.AgentInfo, bool) {
	for _, a := range w.org.Agents(pool) {
		if a.Name == name {
			return a, true
		}
	}
	return adosim.AgentInfo{}, false
}
