package local

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"

	"github.com/adofleet/adofleet/internal/provider"
)

// reap waits for the agent's process to exit and records why it ended.
func (p *Provider) reap(in *instance, cmd *exec.Cmd) {
	defer p.wg.Done()
	err := cmd.Wait()
	// The agent is gone; whatever it left running in its group goes with it.
	killGroup(in.pid)
	p.ended(in, exitDescription(err))
}

// ended records that the agent's process exited, with how.
func (p *Provider) ended(in *instance, how string) {
	p.mu.Lock()
	prefix := "exited: "
	if in.terminating {
		prefix = "terminated: "
	}
	in.State = provider.StateTerminated
	in.Reason = prefix + how
	in.endedAt = p.now()
	close(in.done)
	pool, reason := in.Pool, in.Reason
	p.mu.Unlock()
	p.removeState(in.ID)
	p.log.Info("agent ended", "pool", pool, "agent", in.AgentName, "id", in.ID, "reason", reason)
}

func exitDescription(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error() // "exit status 3", "signal: killed"
}

// Terminate sends SIGTERM to each instance's process group and SIGKILL after the grace period. It
// returns without waiting for the processes to exit; List shows them stopping, then terminated.
// Unknown and already-ended instances are not errors.
func (p *Provider) Terminate(ctx context.Context, ids []string) error {
	var errs []error
	for _, id := range ids {
		p.mu.Lock()
		in, ok := p.instances[id]
		if !ok || in.State == provider.StateTerminated || in.terminating {
			p.mu.Unlock()
			continue
		}
		in.terminating = true
		in.State = provider.StateStopping
		pid, done := in.pid, in.done
		p.mu.Unlock()

		// ESRCH: the group is already gone and the reaper is about to record it.
		if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("terminate %s: signal process group %d: %w", id, pid, err))
			continue
		}
		p.log.Info("agent terminating", "id", id, "pid", pid, "grace", p.grace)
		p.wg.Add(1)
		go p.killAfterGrace(pid, done)
	}
	return errors.Join(errs...)
}

// killAfterGrace sends SIGKILL to the group unless the agent exits within the grace period.
func (p *Provider) killAfterGrace(pid int, done <-chan struct{}) {
	defer p.wg.Done()
	timer := time.NewTimer(p.grace)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		p.log.Warn("agent ignored SIGTERM, killing", "pid", pid)
		killGroup(pid)
	}
}

// killGroup sends SIGKILL to the process group led by pid. Errors mean the group is already gone.
func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}
