package main

import (
	"slices"
	"time"

	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/controller/fleetops"
	"github.com/adofleet/adofleet/internal/store"
)

// statusVersion is the version of the JSON document; a change that is not additive bumps it.
const statusVersion = 1

// statusDoc is what `adofleet status -o json` prints (docs/status.md documents every field).
type statusDoc struct {
	Version     int          `json:"version"`
	GeneratedAt time.Time    `json:"generatedAt"`
	Controller  string       `json:"controller"`
	Pools       []statusPool `json:"pools"`
}

// statusPool is one configured pool: its bounds, its counts, its rows (fleetops.Status) and its
// recent history.
type statusPool struct {
	Name     string `json:"name"`
	Provider string `json:"provider"`
	Max      int    `json:"max"`
	// InADO is false when Azure DevOps has no pool of that name (its instances are still listed).
	InADO     bool             `json:"inAzureDevOps"`
	Error     string           `json:"error,omitempty"` // why the pool (or part of it) could not be read
	Counts    fleetops.Counts  `json:"counts"`
	Rows      []fleetops.Row   `json:"rows"`
	Decisions []statusDecision `json:"decisions"`
}

// statusDecision is one entry of the pool's history, newest first.
type statusDecision struct {
	Time   time.Time `json:"time"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Reason string    `json:"reason"`
}

// buildStatusPool is the pool's part of the document at now. Foreign agents are counted, and
// listed only with all.
func buildStatusPool(p config.Pool, v *fleetops.PoolView, now time.Time, all bool) statusPool {
	ps := fleetops.Status(v, now, p.RegistrationTimeout.D())
	if !all {
		ps.Rows = slices.DeleteFunc(ps.Rows, func(r fleetops.Row) bool { return r.Kind == fleetops.RowForeign })
	}
	return statusPool{Name: p.Name, Provider: p.Provider, Max: p.Max, InADO: ps.InADO, Counts: ps.Counts, Rows: ps.Rows, Decisions: []statusDecision{}}
}

// statusDecisions converts the store's decisions (newest first) for the document.
func statusDecisions(ds []store.Decision) []statusDecision {
	out := make([]statusDecision, 0, len(ds))
	for _, d := range ds {
		out = append(out, statusDecision{Time: d.Time.UTC(), Action: d.Action, Target: d.Target, Reason: d.Reason})
	}
	return out
}
