package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/adofleet/adofleet/internal/provider"
)

// StateFile, in each agent's working directory while it runs, lets a restarted controller re-adopt
// it. It holds no secret: the environment is not saved.
const StateFile = "instance.json"

// DefaultAdoptPollInterval is how often an adopted agent, which is not our child and cannot be
// waited for, is checked for exit.
const DefaultAdoptPollInterval = time.Second

type savedInstance struct {
	ID         string            `json:"id"`
	Agent      string            `json:"agent"`
	Token      string            `json:"token,omitempty"`
	Tags       map[string]string `json:"tags"`
	LaunchedAt time.Time         `json:"launchedAt"`
	PID        int               `json:"pid"`
	// StartTicks is the process start time from /proc, so a reused pid is not mistaken for ours.
	StartTicks uint64 `json:"startTicks,omitempty"`
}

// saveState records a started agent. A failure only costs re-adoption after a restart.
func (p *Provider) saveState(in *instance) {
	s := savedInstance{
		ID: in.ID, Agent: in.AgentName, Token: in.token, Tags: in.Tags,
		LaunchedAt: in.LaunchedAt, PID: in.pid, StartTicks: startTicks(in.pid),
	}
	if err := writeJSON(filepath.Join(p.workDir, in.ID, StateFile), s); err != nil {
		p.log.Warn("cannot save agent state; it will not be re-adopted after a restart", "id", in.ID, "err", err)
	}
}

func (p *Provider) removeState(id string) {
	err := os.Remove(filepath.Join(p.workDir, id, StateFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		p.log.Warn("cannot remove agent state", "id", id, "err", err)
	}
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}

// adopt re-attaches to the agents a previous run of the controller started in the same work dir and
// that still run; the state of those that ended meanwhile is discarded.
func (p *Provider) adopt() error {
	paths, err := filepath.Glob(filepath.Join(p.workDir, "*", StateFile))
	if err != nil {
		return fmt.Errorf("local provider: find agent state: %w", err)
	}
	for _, path := range paths {
		var s savedInstance
		b, err := os.ReadFile(path)
		if err == nil {
			err = json.Unmarshal(b, &s)
		}
		if err != nil || s.ID == "" || s.PID <= 0 {
			p.log.Warn("ignoring unreadable agent state", "path", path, "err", err)
			continue
		}
		if !sameProcessRunning(s.PID, s.StartTicks) {
			p.log.Info("agent ended while the controller was down", "id", s.ID, "agent", s.Agent)
			p.removeState(s.ID)
			continue
		}
		in := &instance{
			Instance: provider.Instance{
				ID: s.ID, Pool: s.Tags[provider.TagPool], AgentName: s.Agent,
				State: provider.StateRunning, Tags: s.Tags, LaunchedAt: s.LaunchedAt,
			},
			token: s.Token,
			pid:   s.PID,
			done:  make(chan struct{}),
		}
		p.instances[in.ID] = in
		if s.Token != "" {
			res := p.launches[s.Token]
			if res == nil {
				res = &launchResult{at: p.now()}
				p.launches[s.Token] = res
			}
			res.start(in.AgentName, in.ID)
		}
		p.wg.Add(1)
		go p.watch(in, s.StartTicks)
		p.log.Info("re-adopted running agent", "pool", in.Pool, "agent", in.AgentName, "id", in.ID, "pid", in.pid)
	}
	return nil
}

// watch polls an adopted agent until it exits. Its exit status is not ours to read.
func (p *Provider) watch(in *instance, ticks uint64) {
	defer p.wg.Done()
	t := time.NewTicker(p.adoptPoll)
	defer t.Stop()
	for range t.C {
		if !sameProcessRunning(in.pid, ticks) {
			break
		}
	}
	killGroup(in.pid)
	p.ended(in, "exit status unknown (adopted after a restart)")
}

// sameProcessRunning reports whether pid runs and, when ticks is known, started at ticks.
func sameProcessRunning(pid int, ticks uint64) bool {
	state, start, err := procStat(pid)
	if err != nil {
		// No /proc: fall back to whether the pid exists at all.
		return syscall.Kill(pid, 0) == nil
	}
	if state == "Z" || state == "X" {
		return false
	}
	return ticks == 0 || start == ticks
}

// startTicks is the process start time in clock ticks since boot, 0 when unknown.
func startTicks(pid int) uint64 {
	_, start, err := procStat(pid)
	if err != nil {
		return 0
	}
	return start
}

// procStat reads a process's state letter and start time from /proc/<pid>/stat. A missing process
// reads as state "X".
func procStat(pid int) (state string, start uint64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, os.ErrNotExist) {
		if _, statErr := os.Stat("/proc/self/stat"); statErr == nil {
			return "X", 0, nil
		}
	}
	if err != nil {
		return "", 0, err
	}
	// The command name may contain spaces; the fields after it are fixed.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return "", 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 20 {
		return "", 0, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(fields))
	}
	start, err = strconv.ParseUint(fields[19], 10, 64) // field 22 of proc(5)
	if err != nil {
		return "", 0, fmt.Errorf("parse /proc/%d/stat start time: %w", pid, err)
	}
	return fields[0], start, nil
}
