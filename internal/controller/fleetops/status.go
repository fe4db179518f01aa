package fleetops

import (
	"slices"
	"strings"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/store"
)

// Row kinds.
const (
	RowAgent       = "agent"       // an agent adofleet created
	RowPlaceholder = "placeholder" // the pool's placeholder agent
	RowForeign     = "foreign"     // an agent adofleet did not create
	RowInstance    = "instance"    // an instance of adofleet's whose agent is not in the pool
	RowRecord      = "record"      // a store record with neither agent nor live instance
)

// Flags: what looks wrong with a row.
const (
	FlagOffline      = "offline"      // an agent (not the placeholder) is offline
	FlagNoInstance   = "no-instance"  // an agent of adofleet's with no live instance
	FlagUnregistered = "unregistered" // a live instance with no agent past registrationTimeout
	FlagLost         = "lost"         // a record whose agent and instance are both gone
)

// InstanceGone is the instance state of a record's instance the provider no longer lists.
const InstanceGone = "gone"

// PoolStatus is what status shows of one pool. Its JSON form is part of `adofleet status -o
// json` (docs/status.md documents every field).
type PoolStatus struct {
	InADO  bool
	Counts Counts
	Rows   []Row // never nil; the placeholder first, then by name and instance id
}

// Counts are the pool's numbers. The agent counts are adofleet's agents, placeholder excluded;
// Foreign counts the pool's other agents.
type Counts struct {
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

// Row is one agent, instance or record of the pool.
type Row struct {
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
	Flags           []string   `json:"flags"` // never nil
}

// Status turns v into the pool's rows and counts at now. An instance still without its agent
// after registrationTimeout is flagged unregistered rather than counted as starting. Foreign
// agents are counted and listed (RowForeign); the caller drops those rows if it lists them not.
func Status(v *PoolView, now time.Time, registrationTimeout time.Duration) PoolStatus {
	ps := PoolStatus{InADO: v.InADO(), Rows: []Row{}}
	c := &ps.Counts
	c.QueuedJobs, c.RunningJobs = ado.CountUnfinished(v.jobs)
	c.Instances = len(v.insts)
	placeholder := controller.PlaceholderName(v.pool)
	// What the agent rows already show: instances by id, records by name.
	shownInst, shownRec := map[string]bool{}, map[string]bool{}
	for i := range v.agents {
		a := &v.agents[i]
		r := agentRow(v, a)
		switch {
		case a.Name == placeholder:
			r.Kind = RowPlaceholder
		case !v.ours(a.Name):
			c.Foreign++
			r.Kind = RowForeign
		default:
			countAgent(c, v, a)
			if !provider.State(r.InstanceState).Alive() { // none, ended, or gone
				r.Flags = append(r.Flags, FlagNoInstance)
			}
		}
		if a.Status != ado.AgentOnline && r.Kind != RowPlaceholder {
			r.Flags = append(r.Flags, FlagOffline)
		}
		shownInst[r.InstanceID], shownRec[a.Name] = true, true
		ps.Rows = append(ps.Rows, r)
	}
	for i := range v.insts {
		in := &v.insts[i]
		if shownInst[in.ID] {
			continue
		}
		r := Row{Kind: RowInstance, Name: agentNameOf(*in)}
		setInstance(&r, in)
		rec := v.recordOf(in)
		if rec != nil {
			setRecord(&r, rec)
			shownRec[rec.Name] = true
		}
		if pastTimeout(now, registrationTimeout, in.LaunchedAt, rec) {
			r.Flags = append(r.Flags, FlagUnregistered)
		} else {
			c.Starting++
		}
		ps.Rows = append(ps.Rows, r)
	}
	for _, rec := range v.recs {
		if shownRec[rec.Name] || rec.State.Terminal() {
			continue
		}
		r := Row{Kind: RowRecord, Name: rec.Name}
		setRecord(&r, rec)
		recordInstance(&r, v, rec)
		starting := rec.State == store.StateLaunching || rec.State == store.StateLaunched
		if starting && !pastTimeout(now, registrationTimeout, time.Time{}, rec) {
			c.Starting++
		} else {
			r.Flags = append(r.Flags, FlagLost)
		}
		ps.Rows = append(ps.Rows, r)
	}
	for i := range ps.Rows {
		if ps.Rows[i].Flags == nil {
			ps.Rows[i].Flags = []string{}
		}
	}
	sortRows(ps.Rows)
	return ps
}

// agentRow is the row of an agent in the pool: ADO's view, its job, its instance and record.
func agentRow(v *PoolView, a *ado.Agent) Row {
	enabled := a.Enabled
	r := Row{Kind: RowAgent, Name: a.Name, AgentID: a.ID, Status: string(a.Status), Enabled: &enabled}
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
func countAgent(c *Counts, v *PoolView, a *ado.Agent) {
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

func setInstance(r *Row, in *provider.Instance) {
	r.InstanceID, r.InstanceState, r.LaunchedAt = in.ID, string(in.State), timePtrOrNil(in.LaunchedAt)
}

func setRecord(r *Row, rec *store.AgentRecord) {
	r.RecordState = string(rec.State)
	r.RecordCreatedAt, r.RecordUpdatedAt = timePtrOrNil(rec.CreatedAt), timePtrOrNil(rec.UpdatedAt)
}

// recordInstance fills the instance its record names but the live list lacks: ended (the
// provider still lists it for a while) or gone.
func recordInstance(r *Row, v *PoolView, rec *store.AgentRecord) {
	if rec.InstanceID == "" {
		return
	}
	if in := v.ended[rec.InstanceID]; in != nil {
		setInstance(r, in)
		return
	}
	r.InstanceID, r.InstanceState = rec.InstanceID, InstanceGone
}

// sortRows puts the placeholder first, then every row by name, then by instance id.
func sortRows(rows []Row) {
	slices.SortStableFunc(rows, func(a, b Row) int {
		if pa, pb := a.Kind == RowPlaceholder, b.Kind == RowPlaceholder; pa != pb {
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
