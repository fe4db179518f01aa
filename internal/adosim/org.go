package adosim

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// OrgOptions configure an Org.
type OrgOptions struct {
	// Name is the organization name, the first path segment of every URL. Default "sim".
	Name string
	// Project is the default project (name) plans and environments use. Default "sim".
	Project string
	// Clock is read for every timestamp. Default RealClock.
	Clock Clock
	// Seed seeds the ids and tokens the Org makes up; 0 picks a random seed.
	Seed uint64
	// SessionTimeout: an agent session not heard from (poll, renew) for this long is dropped, as
	// ADO drops an agent that died. Default 2m.
	SessionTimeout time.Duration
	// LockDuration is how far each renewal moves a job's lockedUntil; a lapsed lock requeues the
	// job. Default 5m.
	LockDuration time.Duration
	Logger       *slog.Logger
}

// Defaults for OrgOptions.
const (
	DefaultOrgName        = "sim"
	DefaultSessionTimeout = 2 * time.Minute
	DefaultLockDuration   = 5 * time.Minute
)

// Pool types.
const (
	PoolTypeAutomation = "automation"
	PoolTypeDeployment = "deployment"
)

// Org is an in-memory Azure DevOps organization. All methods are safe for concurrent use.
type Org struct {
	mu             sync.Mutex
	name           string
	project        string
	clock          Clock
	rnd            *rand.Rand
	sessionTimeout time.Duration
	lockDuration   time.Duration
	log            *slog.Logger

	nextPoolID, nextAgentID, nextEnvID, nextResourceID int
	nextRequestID, nextMessageID                       int64

	pools    map[int]*pool
	agents   map[int]*agent
	jobs     map[int64]*job
	queue    []int64 // queued request ids, oldest first
	sessions map[string]*session
	projects map[string]string // project name -> id
	envs     map[int]*environment
	plans    map[string]*plan
	// poolChecks are the pools' Invoke REST API checks; checking the jobs waiting for theirs.
	poolChecks    map[int]*CheckSpec
	envChecks     map[int]*CheckSpec // by environment id
	checking      map[int64]*job
	collectionURL string // PlanUrl of the checks' calls
	hostID        string
	owner         string
	changed       chan struct{}
}

type pool struct {
	id        int
	name      string
	poolType  string
	scope     string
	createdOn time.Time
	envID     int // the environment owning a deployment pool
}

type agent struct {
	id, poolID        int
	name, version, os string
	enabled           bool
	maxParallelism    int
	provisioning      string
	createdOn         time.Time
	statusChangedOn   time.Time
	idleSince         time.Time
	system, user      map[string]string
	publicKey         *wirePublicKey
	clientID          string
	sessionID         string // "" = offline
	assigned          int64
	lastCompleted     int64
	jobsRun           int
}

// NewOrg returns an empty organization.
func NewOrg(opts OrgOptions) *Org {
	if opts.Name == "" {
		opts.Name = DefaultOrgName
	}
	if opts.Project == "" {
		opts.Project = "sim"
	}
	if opts.Clock == nil {
		opts.Clock = RealClock{}
	}
	if opts.Seed == 0 {
		opts.Seed = rand.Uint64()
	}
	if opts.SessionTimeout <= 0 {
		opts.SessionTimeout = DefaultSessionTimeout
	}
	if opts.LockDuration <= 0 {
		opts.LockDuration = DefaultLockDuration
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	o := &Org{
		name:           opts.Name,
		project:        opts.Project,
		clock:          opts.Clock,
		rnd:            rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		sessionTimeout: opts.SessionTimeout,
		lockDuration:   opts.LockDuration,
		log:            opts.Logger.With("component", "adosim"),
		pools:          map[int]*pool{},
		agents:         map[int]*agent{},
		jobs:           map[int64]*job{},
		sessions:       map[string]*session{},
		projects:       map[string]string{},
		envs:           map[int]*environment{},
		plans:          map[string]*plan{},
		poolChecks:     map[int]*CheckSpec{},
		envChecks:      map[int]*CheckSpec{},
		checking:       map[int64]*job{},
		changed:        make(chan struct{}),
	}
	o.hostID = o.uuidLocked()
	o.owner = o.uuidLocked()
	o.projectIDLocked(o.project)
	return o
}

// Name returns the organization name.
func (o *Org) Name() string { return o.name }

// DefaultProject returns the name of the default project.
func (o *Org) DefaultProject() string { return o.project }

// ProjectID returns the id of the named project, creating the project if needed.
func (o *Org) ProjectID(name string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.projectIDLocked(name)
}

func (o *Org) projectIDLocked(name string) string {
	for n, id := range o.projects {
		if strings.EqualFold(n, name) || strings.EqualFold(id, name) {
			return id
		}
	}
	id := o.uuidLocked()
	o.projects[name] = id
	return id
}

// resolveProjectLocked accepts a project name or id; it reports false for an unknown project.
func (o *Org) resolveProjectLocked(nameOrID string) (name, id string, ok bool) {
	for n, i := range o.projects {
		if strings.EqualFold(n, nameOrID) || strings.EqualFold(i, nameOrID) {
			return n, i, true
		}
	}
	return "", "", false
}

func (o *Org) uuidLocked() string {
	a, b := o.rnd.Uint64(), o.rnd.Uint64()
	a = a&^(0xf<<12) | 0x4<<12 // version 4
	b = b&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// notifyLocked wakes every long poll waiting for a change.
func (o *Org) notifyLocked() {
	close(o.changed)
	o.changed = make(chan struct{})
}

// AddPool adds an automation pool and returns its id; an existing name is a conflict.
func (o *Org) AddPool(name string) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, err := o.addPoolLocked(name, PoolTypeAutomation)
	if err != nil {
		return 0, err
	}
	return p.id, nil
}

func (o *Org) addPoolLocked(name, poolType string) (*pool, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errBadRequest("A pool name is required.")
	}
	if o.poolByNameLocked(name) != nil {
		return nil, errf(http.StatusConflict, "TaskAgentPoolExistsException", "An agent pool named %s already exists.", name)
	}
	o.nextPoolID++
	p := &pool{id: o.nextPoolID, name: name, poolType: poolType, scope: o.uuidLocked(), createdOn: o.clock.Now()}
	o.pools[p.id] = p
	return p, nil
}

func (o *Org) poolByNameLocked(name string) *pool {
	for _, p := range o.pools {
		if strings.EqualFold(p.name, name) {
			return p
		}
	}
	return nil
}

func (o *Org) poolLocked(id int) (*pool, error) {
	p, ok := o.pools[id]
	if !ok {
		return nil, errPoolNotFound(id)
	}
	return p, nil
}

// PoolID returns the id of the named pool.
func (o *Org) PoolID(name string) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.poolByNameLocked(name)
	if p == nil {
		return 0, errPoolNotFound(name)
	}
	return p.id, nil
}

func (o *Org) agentsInPoolLocked(poolID int) []*agent {
	var out []*agent
	for _, a := range o.agents {
		if a.poolID == poolID {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func (o *Org) agentLocked(poolID, agentID int) (*agent, error) {
	if _, err := o.poolLocked(poolID); err != nil {
		return nil, err
	}
	a, ok := o.agents[agentID]
	if !ok || a.poolID != poolID {
		return nil, errAgentNotFound(poolID, agentID)
	}
	return a, nil
}

func (a *agent) online() bool { return a.sessionID != "" }

func (a *agent) capabilities() map[string]string {
	out := make(map[string]string, len(a.system)+len(a.user))
	for k, v := range a.system {
		out[k] = v
	}
	for k, v := range a.user {
		out[k] = v
	}
	return out
}

// AgentSpec describes an agent added directly (not by a running agent), e.g. the offline
// placeholder agents that keep ADO from failing jobs at scale to zero.
type AgentSpec struct {
	Name               string
	Version            string // default "4.255.0"
	SystemCapabilities map[string]string
	UserCapabilities   map[string]string
	Disabled           bool
}

// SimAgentVersion is the version simulated agents report.
const SimAgentVersion = "4.255.0"

// AddAgent registers an offline agent in the named pool and returns its id.
func (o *Org) AddAgent(poolName string, spec AgentSpec) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.poolByNameLocked(poolName)
	if p == nil {
		return 0, errPoolNotFound(poolName)
	}
	enabled := !spec.Disabled
	a, err := o.addAgentLocked(p, wireAgentIn{
		Name: spec.Name, Version: spec.Version, Enabled: &enabled,
		SystemCapabilities: spec.SystemCapabilities, UserCapabilities: spec.UserCapabilities,
	})
	if err != nil {
		return 0, err
	}
	return a.id, nil
}

func (o *Org) addAgentLocked(p *pool, in wireAgentIn) (*agent, error) {
	if strings.TrimSpace(in.Name) == "" {
		return nil, errf(http.StatusBadRequest, "ArgumentNullException", "Value cannot be null.\r\nParameter name: agent.Name")
	}
	for _, a := range o.agentsInPoolLocked(p.id) {
		if strings.EqualFold(a.name, in.Name) {
			return nil, errAgentExists(in.Name, p.name)
		}
	}
	now := o.clock.Now()
	o.nextAgentID++
	a := &agent{
		id: o.nextAgentID, poolID: p.id, enabled: true, maxParallelism: 1,
		provisioning: "Provisioned", createdOn: now, statusChangedOn: now, idleSince: now,
		clientID: o.uuidLocked(),
	}
	o.applyAgentInLocked(a, in)
	o.agents[a.id] = a
	o.notifyLocked()
	return a, nil
}

func (o *Org) applyAgentInLocked(a *agent, in wireAgentIn) {
	a.name = in.Name
	a.version = in.Version
	if a.version == "" {
		a.version = SimAgentVersion
	}
	a.os = in.OSDescription
	if in.Enabled != nil {
		a.enabled = *in.Enabled
	}
	if in.MaxParallelism > 0 {
		a.maxParallelism = in.MaxParallelism
	}
	a.system = copyMap(in.SystemCapabilities)
	a.user = copyMap(in.UserCapabilities)
	if in.Authorization != nil && in.Authorization.PublicKey != nil {
		k := *in.Authorization.PublicKey
		a.publicKey = &k
	}
}

// replaceAgentLocked is PUT agent: the agent's registration is replaced, any session dropped.
func (o *Org) replaceAgentLocked(a *agent, in wireAgentIn) {
	o.dropSessionLocked(a, true)
	o.applyAgentInLocked(a, in)
	o.failUnmatchableLocked(a.poolID)
	o.assignLocked()
	o.notifyLocked()
}

// setEnabledLocked is PATCH agent {enabled}.
func (o *Org) setEnabledLocked(a *agent, enabled bool) {
	if a.enabled == enabled {
		return
	}
	a.enabled = enabled
	o.assignLocked()
	o.notifyLocked()
}

// deleteAgentLocked removes an agent; its job goes back to the queue, and queued jobs that no
// remaining agent can satisfy fail, as in ADO.
func (o *Org) deleteAgentLocked(a *agent) {
	o.dropSessionLocked(a, true)
	o.requeueAssignedLocked(a, "agent deleted")
	delete(o.agents, a.id)
	for _, e := range o.envs {
		for _, r := range e.resources {
			if r.agentID == a.id {
				r.agentID = 0
			}
		}
	}
	o.failUnmatchableLocked(a.poolID)
	o.assignLocked()
	o.notifyLocked()
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
