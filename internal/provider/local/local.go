// Package local runs each agent as a process on this machine: the Azure Pipelines agent for real use,
// the simulated agent in the demo.
//
// Every agent gets its own process group and working directory, <WorkDir>/<instance ID>, where its
// output goes to agent.log. An instance ends when its process exits; it then stays visible in List,
// with the reason, for Options.Retention.
package local

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/adofleet/adofleet/internal/provider"
)

var _ provider.Provider = (*Provider)(nil)

// Defaults for Options.
const (
	DefaultRetention      = 10 * time.Minute
	DefaultTerminateGrace = 10 * time.Second
)

// Options configure a local Provider.
type Options struct {
	// Command is the argv run for each agent (no shell). Required. A relative path containing a
	// separator is resolved against the current directory, since each agent runs in its own.
	Command []string
	// WorkDir is the parent of each agent's working directory. Default: a new temporary directory,
	// removed by Close.
	WorkDir string
	// Env is added to every agent's environment. Values may be secret and are never logged.
	Env map[string]string
	// Controller is the controller tag set on instances whose request does not carry one.
	Controller string
	Logger     *slog.Logger
	// Retention is how long an ended instance stays in List with its reason. Default 10m.
	Retention time.Duration
	// TerminateGrace is the time between SIGTERM and SIGKILL. Default 10s.
	TerminateGrace time.Duration
	// Clock returns the current time (a seam for tests). Default time.Now.
	Clock func() time.Time
	// AdoptPollInterval is how often agents re-adopted from an earlier run (see New) are checked
	// for exit. Default 1s.
	AdoptPollInterval time.Duration
}

// Provider runs agents as local processes. It is safe for concurrent use.
type Provider struct {
	command     []string
	workDir     string
	ownsWorkDir bool
	env         map[string]string
	controller  string
	log         *slog.Logger
	retention   time.Duration
	grace       time.Duration
	adoptPoll   time.Duration
	now         func() time.Time

	launchMu sync.Mutex // serialises launches so a token is checked and recorded atomically

	mu        sync.Mutex
	instances map[string]*instance
	launches  map[string]*launchResult // by token
	closed    bool

	wg sync.WaitGroup // reapers and SIGKILL timers
}

// instance is the provider's record of one agent process.
type instance struct {
	provider.Instance
	token       string
	pid         int
	endedAt     time.Time
	terminating bool
	done        chan struct{} // closed once the process has been reaped
}

// launchResult is what the launches with one token did, by agent name; it is replayed to later
// calls with that token.
type launchResult struct {
	started map[string]string // agent name -> instance ID
	failed  map[string]error  // agent name -> why it could not start
	at      time.Time
}

func (r *launchResult) clone() *launchResult {
	return &launchResult{started: maps.Clone(r.started), failed: maps.Clone(r.failed), at: r.at}
}

func (r *launchResult) start(agent, id string) {
	if r.started == nil {
		r.started = map[string]string{}
	}
	r.started[agent] = id
}

func (r *launchResult) fail(agent string, err error) {
	if r.failed == nil {
		r.failed = map[string]error{}
	}
	r.failed[agent] = err
}

// New validates opts and returns a Provider. It starts no process. With an explicit WorkDir it
// re-adopts the agents an earlier Provider started there that still run (a controller restart):
// they are listed, can be terminated, and their launch tokens stay idempotent.
func New(opts Options) (*Provider, error) {
	if len(opts.Command) == 0 || opts.Command[0] == "" {
		return nil, errors.New("local provider: options.Command is required")
	}
	p := &Provider{
		command:    append([]string(nil), opts.Command...),
		workDir:    opts.WorkDir,
		env:        opts.Env,
		controller: opts.Controller,
		log:        opts.Logger,
		retention:  opts.Retention,
		grace:      opts.TerminateGrace,
		now:        opts.Clock,
		adoptPoll:  opts.AdoptPollInterval,
		instances:  map[string]*instance{},
		launches:   map[string]*launchResult{},
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.log = p.log.With("component", "provider.local")
	if p.retention <= 0 {
		p.retention = DefaultRetention
	}
	if p.grace <= 0 {
		p.grace = DefaultTerminateGrace
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.adoptPoll <= 0 {
		p.adoptPoll = DefaultAdoptPollInterval
	}
	if err := p.resolveCommand(); err != nil {
		return nil, err
	}
	if err := p.prepareWorkDir(); err != nil {
		return nil, err
	}
	if !p.ownsWorkDir {
		if err := p.adopt(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// resolveCommand makes a relative command path absolute: exec resolves it against the agent's
// working directory otherwise. A command missing from PATH is only warned about, since it may be
// installed before the first launch; each launch then reports its own failure.
func (p *Provider) resolveCommand() error {
	name := p.command[0]
	if strings.ContainsRune(name, os.PathSeparator) {
		if !filepath.IsAbs(name) {
			abs, err := filepath.Abs(name)
			if err != nil {
				return fmt.Errorf("local provider: resolve command %q: %w", name, err)
			}
			p.command[0] = abs
		}
		return nil
	}
	if _, err := exec.LookPath(name); err != nil {
		p.log.Warn("agent command not found in PATH", "command", name, "err", err)
	}
	return nil
}

func (p *Provider) prepareWorkDir() error {
	if p.workDir == "" {
		dir, err := os.MkdirTemp("", "adofleet-local-")
		if err != nil {
			return fmt.Errorf("local provider: create work dir: %w", err)
		}
		p.workDir, p.ownsWorkDir = dir, true
		return nil
	}
	abs, err := filepath.Abs(p.workDir)
	if err != nil {
		return fmt.Errorf("local provider: work dir %q: %w", p.workDir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return fmt.Errorf("local provider: create work dir: %w", err)
	}
	p.workDir = abs
	return nil
}

// WorkDir returns the parent of the agents' working directories.
func (p *Provider) WorkDir() string { return p.workDir }

// List returns the instances tagged for pool: running ones and those that ended within Retention.
func (p *Provider) List(ctx context.Context, pool string) ([]provider.Instance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pruneLocked()
	var out []provider.Instance
	for _, in := range p.instances {
		if in.Tags[provider.TagPool] == pool {
			out = append(out, in.snapshot())
		}
	}
	sortInstances(out)
	return out, nil
}

// pruneLocked drops instances that ended more than Retention ago, with their working
// directories (kept until then for the agent's log; a long run would otherwise keep one per agent
// it ever started), and the launch records whose instances are all gone.
func (p *Provider) pruneLocked() {
	now := p.now()
	for id, in := range p.instances {
		if in.State == provider.StateTerminated && now.Sub(in.endedAt) >= p.retention {
			delete(p.instances, id)
			if err := os.RemoveAll(filepath.Join(p.workDir, id)); err != nil {
				p.log.Warn("remove working dir of ended agent", "instance", id, "err", err)
			}
		}
	}
	for token, res := range p.launches {
		if now.Sub(res.at) < p.retention {
			continue
		}
		live := false
		for _, id := range res.started {
			if in, ok := p.instances[id]; ok && in.token == token {
				live = true
				break
			}
		}
		if !live {
			delete(p.launches, token)
		}
	}
}

// Close terminates every agent this provider started and waits for them to exit, or for ctx. It
// then removes the work directory if New created it. Launch fails after Close.
func (p *Provider) Close(ctx context.Context) error {
	p.launchMu.Lock() // no launch may start a process after the snapshot below
	p.mu.Lock()
	p.closed = true
	p.launchMu.Unlock()
	var ids []string
	for id, in := range p.instances {
		if in.State.Alive() {
			ids = append(ids, id)
		}
	}
	p.mu.Unlock()

	termErr := p.Terminate(ctx, ids)
	waited := make(chan struct{})
	go func() { p.wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		p.killAll()
		return fmt.Errorf("local provider: close: %w", ctx.Err())
	}
	if p.ownsWorkDir {
		if err := os.RemoveAll(p.workDir); err != nil {
			termErr = errors.Join(termErr, fmt.Errorf("local provider: remove work dir: %w", err))
		}
	}
	return termErr
}

// killAll sends SIGKILL to every agent still running, without waiting for the grace period.
func (p *Provider) killAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, in := range p.instances {
		if in.State != provider.StateTerminated {
			killGroup(in.pid)
		}
	}
}

func (in *instance) snapshot() provider.Instance {
	out := in.Instance
	out.Tags = make(map[string]string, len(in.Tags))
	for k, v := range in.Tags {
		out.Tags[k] = v
	}
	return out
}

// sortInstances orders instances by launch time, then ID, so List is stable.
func sortInstances(insts []provider.Instance) {
	slices.SortFunc(insts, func(a, b provider.Instance) int {
		if c := a.LaunchedAt.Compare(b.LaunchedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}
