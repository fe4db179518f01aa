package main

import (
	"slices"
	"strings"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/provider"
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

// statusPool is one configured pool: its bounds, its counts, its rows and its recent history.
type statusPool struct {
	Name     string `json:"name"`
	Provider string `json:"provider"`
	Max      int    `json:"max"`
	// InADO is false when Azure DevOps has no pool of that name (its instances are still listed).
	InADO     bool             `json:"inAzureDevOps"`
	Error     string           `json:"error,omitempty"` // why the pool (or part of it) could not be read
	Counts    statusCounts     `json:"counts"`
	Rows      []statusRow      `json:"rows"`
	Decisions []statusDecision `json:"decisions"`
}

// statusCounts are the pool's numbers. The agent counts are adofleet's agents, placeholder
// excluded; Foreign counts the pool's other agents.
type statusCounts struct {
	QueuedJobs  int `json:"queuedJobs"`
	RunningJobs int `json:"runningJobs"`
	Busy        int `json:"busy"`
	Idle        int `json:"idle"`
	Draining    int `json:"draining"`
	Starting    int `json:"starting"`
	Offline     int `json:"offline"`
	Foreign     int `json:"foreign"`
	Instances   int `json:"instances"` // adofleet's live instances for the pool
}

// Row kinds.
const (
	rowAgent       = "agent"       // an agent adofleet created
	rowPlaceholder = "placeholder" // the pool's placeholder agent
	rowForeign     = "foreign"     // an agent adofleet did not create (--all)
	rowInstance    = "instance"    // an instance of adofleet's whose agent is not in the pool
	rowRecord      = "record"      // a store record with neither agent nor live instance
)

// Flags: what looks wrong with a row.
const (
	flagOffline      = "offline"      // an agent (not the placeholder) is offline
	flagNoInstance   = "no-instance"  // an agent of adofleet's with no live instance
	flagUnregistered = "unregistered" // a live instance with no agent past registrationTimeout
	flagLost         = "lost"         // a record whose agent and instance are both gone
)

// instanceGone is the instance state of a record's instance the provider no longer lists.
const instanceGone = "gone"

// statusRow is one agent, instance or record of the pool.
type statusRow struct {
	Kind            string     `json:"kind"`
	Name            string     `json:"name"` // the agent's name (an instance's agent tag)
	AgentID         int        `json:"agentId,omitempty"`
	Status          string     `json:"status,omitempty"` // online or offline; empty when not in the pool
	Enabled         *bool      `json:"enabled,omitempty"`
	JobRequestID    int64      `json:"jobRequestId,omitempty"`
	BusySince       *time.Time `json:"busySince,omitempty"`
	InstanceID      string     `json:"instanceId,omitempty"`
	InstanceState   string     `json:"instanceState,omitempty"` // pending, running, stopping, terminated, gone
	LaunchedAt      *time.Time `json:"launchedAt,omitempty"`
	RecordState     string     `json:"recordState,omitempty"` // launching, launched, registered, draining
	RecordCreatedAt *time.Time `json:"recordCreatedAt,omitempty"`
	RecordUpdatedAt *time.Time `json:"recordUpdatedAt,omitempty"`
	Flags           []string   `json:"flags"`
}

// statusDecision is one entry of the pool's history, newest first.
type statusDecision struct {
	Time   time.Time `json:"time"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Reason string    `json:"reason"`
}

// buildStatusPool turns one observation into the pool's rows and counts at now. Foreign agents
// are counted, and listed only with all.
func buildStatusPool(p config.Pool, v *poolView, now time.Time, all bool) statusPool {
	sp := statusPool{Name: p.Name, Provider: p.Provider, Max: p.Max, InADO: v.poolID != 0, Rows: []statusRow{}, Decisions: []statusDecision{}}
	c := &sp.Counts
	for i := range v.jobs {
		switch j := &v.jobs[i]; {
		case j.Finished():
		case j.Queued():
			c.QueuedJobs++
		default:
			c.RunningJobs++
		}
	}
	c.Instances = len(v.insts)
	timeout := p.RegistrationTimeout.D()
	placeholder := controller.PlaceholderName(p.Name)
	// What the agent rows already show: instances by id, records by name.
	shownInst, shownRec := map[string]bool{}, map[string]bool{}
	for i := range v.agents {
		a := &v.agents[i]
		r := agentRow(v, a)
		switch {
		case a.Name == placeholder:
			r.Kind = rowPlaceholder
		case !v.ours(a.Name):
			c.Foreign++
			if !all {
				continue
			}
			r.Kind = rowForeign
		default:
			countAgent(c, v, a)
			if !provider.State(r.InstanceState).Alive() { // none, ended, or gone
				r.Flags = append(r.Flags, flagNoInstance)
			}
		}
		if a.Status != ado.AgentOnline && r.Kind != rowPlaceholder {
			r.Flags = append(r.Flags, flagOffline)
		}
		shownInst[r.InstanceID], shownRec[a.Name] = true, true
		sp.Rows = append(sp.Rows, r)
	}
	for i := range v.insts {
		in := &v.insts[i]
		if shownInst[in.ID] {
			continue
		}
		r := statusRow{Kind: rowInstance, Name: agentNameOf(*in)}
		setInstance(&r, in)
		rec := v.recordOf(in)
		if rec != nil {
			setRecord(&r, rec)
			shownRec[rec.Name] = true
		}
		if pastTimeout(now, timeout, in.LaunchedAt, rec) {
			r.Flags = append(r.Flags, flagUnregistered)
		} else {
			c.Starting++
		}
		sp.Rows = append(sp.Rows, r)
	}
	for _, rec := range v.recs {
		if shownRec[rec.Name] || rec.State.Terminal() {
			continue
		}
		r := statusRow{Kind: rowRecord, Name: rec.Name}
		setRecord(&r, rec)
		recordInstance(&r, v, rec)
		starting := rec.State == store.StateLaunching || rec.State == store.StateLaunched
		if starting && !pastTimeout(now, timeout, time.Time{}, rec) {
			c.Starting++
		} else {
			r.Flags = append(r.Flags, flagLost)
		}
		sp.Rows = append(sp.Rows, r)
	}
	for i := range sp.Rows {
		if sp.Rows[i].Flags == nil {
			sp.Rows[i].Flags = []string{}
		}
	}
	sortRows(sp.Rows)
	return sp
}

// agentRow is the row of an agent in the pool: ADO's view, its job, its instance and record.
func agentRow(v *poolView, a *ado.Agent) statusRow {
	enabled := a.Enabled
	r := statusRow{Kind: rowAgent, Name: a.Name, AgentID: a.ID, Status: string(a.Status), Enabled: &enabled}
	if bj, ok := v.busy[a.ID]; ok {
		r.JobRequestID = bj.request
		r.BusySince = timePtrOrNil(bj.since)
	}
	if rec := v.recs[a.Name]; rec != nil {
		setRecord(&r, rec)
	}
	if in := v.instanceOf(a.Name); in != nil {
		setInstance(&r, in)
	} else if rec := v.recs[a.Name]; rec != nil {
		recordInstance(&r, v, rec)
	}
	return r
}

// countAgent adds one of adofleet's agents (not the placeholder) to the counts, as the
// controller counts them.
func countAgent(c *statusCounts, v *poolView, a *ado.Agent) {
	rec := v.recs[a.Name]
	_, busy := v.busy[a.ID]
	switch {
	case busy:
		c.Busy++
	case rec != nil && rec.State == store.StateDraining, a.Status == ado.AgentOnline && !a.Enabled:
		c.Draining++
	case a.Status == ado.AgentOnline:
		c.Idle++
	default:
		c.Offline++
	}
}

// pastTimeout reports whether an instance launched at launched (else its record's creation)
// has been waiting for its agent longer than timeout at now. Unknown times are not past it.
func pastTimeout(now time.Time, timeout time.Duration, launched time.Time, rec *store.AgentRecord) bool {
	if launched.IsZero() && rec != nil {
		launched = rec.CreatedAt
	}
	return !launched.IsZero() && now.Sub(launched) > timeout
}

func setInstance(r *statusRow, in *provider.Instance) {
	r.InstanceID, r.InstanceState, r.LaunchedAt = in.ID, string(in.State), timePtrOrNil(in.LaunchedAt)
}

func setRecord(r *statusRow, rec *store.AgentRecord) {
	r.RecordState = string(rec.State)
	r.RecordCreatedAt, r.RecordUpdatedAt = timePtrOrNil(rec.CreatedAt), timePtrOrNil(rec.UpdatedAt)
}

// recordInstance fills the instance its record names but the live list lacks: ended (the
// provider still lists it for a while) or gone.
func recordInstance(r *statusRow, v *poolView, rec *store.AgentRecord) {
	if rec.InstanceID == "" {
		return
	}
	if in := v.ended[rec.InstanceID]; in != nil {
		setInstance(r, in)
		return
	}
	r.InstanceID, r.InstanceState = rec.InstanceID, instanceGone
}

// sortRows puts the placeholder first, then every row by name, then by instance id.
func sortRows(rows []statusRow) {
	slices.SortStableFunc(rows, func(a, b statusRow) int {
		if pa, pb := a.Kind == rowPlaceholder, b.Kind == rowPlaceholder; pa != pb {
			if pa {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.InstanceID, b.InstanceID)
	})
}

func timePtrOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// statusDecisions converts the store's decisions (newest first) for the document.
func statusDecisions(ds []store.Decision) []statusDecision {
	out := make([]statusDecision, 0, len(ds))
	for _, d := range ds {
		out = append(out, statusDecision{Time: d.Time.UTC(), Action: d.Action, Target: d.Target, Reason: d.Reason})
	}
	return out
}
