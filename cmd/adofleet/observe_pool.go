package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/store"
)

// poolView is what gc and status read of one pool, with reads only: the pool's agents with their
// jobs, adofleet's instances for it (by tag) and its store records.
type poolView struct {
	pool      string
	poolID    int // 0: Azure DevOps has no such pool
	agents    []ado.Agent
	jobs      []ado.JobRequest // the pool's unfinished requests
	busy      map[int]busyJob  // agent id -> the request it runs
	insts     []provider.Instance
	ended     map[string]*provider.Instance // ours, no longer alive (kept briefly by the provider), by id
	recs      map[string]*store.AgentRecord
	instByAgt map[string]*provider.Instance
}

// busyJob is the request an agent runs and, when ADO says, since when.
type busyJob struct {
	request int64
	since   time.Time // zero when unknown
}

// recordReader is the part of the store observePool reads.
type recordReader interface {
	ListAgents(ctx context.Context, pool string, states ...store.AgentState) ([]store.AgentRecord, error)
}

// observePool reads the pool as the controller's observe does: agents (in full, with their
// assigned requests) and the job-request list for who is busy, the provider's list for our
// instances, the store for our records. A pool ADO does not know comes back with poolID 0.
func observePool(ctx context.Context, client ado.API, prov provider.Provider, st recordReader, pool, controllerID string) (*poolView, error) {
	v := &poolView{pool: pool, busy: map[int]busyJob{}, ended: map[string]*provider.Instance{},
		recs: map[string]*store.AgentRecord{}, instByAgt: map[string]*provider.Instance{}}
	if err := v.observeADO(ctx, client); err != nil {
		return nil, err
	}
	insts, err := prov.List(ctx, pool)
	if err != nil {
		return nil, fmt.Errorf("list instances of pool %q: %w", pool, err)
	}
	for _, in := range insts {
		// Found by tag, never by name: another controller's instances are not ours to touch.
		if !provider.IsOurs(in, pool, controllerID) {
			continue
		}
		if in.State.Alive() {
			v.insts = append(v.insts, in)
		} else {
			v.ended[in.ID] = &in
		}
	}
	for i := range v.insts {
		if name := agentNameOf(v.insts[i]); name != "" {
			v.instByAgt[name] = &v.insts[i]
		}
	}
	recs, err := st.ListAgents(ctx, pool)
	if err != nil {
		return nil, fmt.Errorf("list store records of pool %q: %w", pool, err)
	}
	for i := range recs {
		v.recs[recs[i].Name] = &recs[i]
	}
	return v, nil
}

// observeADO reads the pool's agents and who is busy. A pool ADO does not know leaves poolID 0
// and no agents: its instances may still be ours.
func (v *poolView) observeADO(ctx context.Context, client ado.API) error {
	p, err := client.FindPool(ctx, v.pool)
	if errors.Is(err, ado.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find pool %q: %w", v.pool, err)
	}
	v.poolID = p.ID
	if v.agents, err = client.ListAgents(ctx, p.ID); err != nil {
		return fmt.Errorf("list agents of pool %q: %w", v.pool, err)
	}
	if v.jobs, err = client.ListJobRequests(ctx, p.ID); err != nil {
		return fmt.Errorf("list job requests of pool %q: %w", v.pool, err)
	}
	// Busy is either signal: the agent's assigned request, or an unfinished row reserving it.
	for _, a := range v.agents {
		if r := a.AssignedRequest; r != nil {
			v.busy[a.ID] = busyJob{request: r.RequestID, since: assignedAt(*r)}
		}
	}
	for _, j := range v.jobs {
		if !j.Finished() && j.ReservedAgent != nil {
			v.busy[j.ReservedAgent.ID] = busyJob{request: j.RequestID, since: assignedAt(j)}
		}
	}
	return nil
}

// assignedAt is when ADO gave the request to its agent: assignTime, else receiveTime.
func assignedAt(r ado.JobRequest) time.Time {
	switch {
	case r.AssignTime != nil:
		return *r.AssignTime
	case r.ReceiveTime != nil:
		return *r.ReceiveTime
	}
	return time.Time{}
}

// agentNameOf is the agent an instance hosts: its AgentName, or its agent tag.
func agentNameOf(in provider.Instance) string {
	if in.AgentName != "" {
		return in.AgentName
	}
	return in.Tags[provider.TagAgent]
}

// instanceOf returns the live instance hosting the agent called name: by agent name or tag, else
// by the instance id its record names.
func (v *poolView) instanceOf(name string) *provider.Instance {
	if in := v.instByAgt[name]; in != nil {
		return in
	}
	if rec := v.recs[name]; rec != nil && rec.InstanceID != "" {
		for i := range v.insts {
			if v.insts[i].ID == rec.InstanceID {
				return &v.insts[i]
			}
		}
	}
	return nil
}

// ours reports whether adofleet created the agent: a store record names it, or one of our
// tagged instances hosts it.
func (v *poolView) ours(name string) bool {
	return v.recs[name] != nil || v.instanceOf(name) != nil
}

// recordOf returns the store record of in: by recorded instance id, else by its agent's name.
func (v *poolView) recordOf(in *provider.Instance) *store.AgentRecord {
	for _, r := range v.recs {
		if r.InstanceID == in.ID {
			return r
		}
	}
	return v.recs[agentNameOf(*in)]
}

// checkPoolNames fails on a --pool the config does not have, naming it and the configured ones
// (gc and status).
func checkPoolNames(cfg *config.Config, names []string) error {
	var known []string
	for _, p := range cfg.Pools {
		known = append(known, p.Name)
	}
	for _, n := range names {
		if !slices.Contains(known, n) {
			return fmt.Errorf("--pool %q: no such pool in the config (pools: %s)", n, strings.Join(known, ", "))
		}
	}
	return nil
}
