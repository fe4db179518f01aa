package fake

import (
	"fmt"
	"time"

	"github.com/adofleet/adofleet/internal/provider"
)

// DelayStart holds a running instance in StatePending for d from now (Provider.Now), as a cloud
// that is slow to place it does; it turns StateRunning on the first read after that. A harness
// that boots an agent per instance should wait while Instance reports it pending.
func (p *Provider) DelayStart(id string, d time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	in, ok := p.instances[id]
	if !ok {
		return fmt.Errorf("fake delay start of %s: %w", id, provider.ErrNotFound)
	}
	if !in.State.Alive() {
		return nil
	}
	in.State = provider.StatePending
	p.startAt[id] = p.nowLocked().Add(d)
	return nil
}

// Interrupt ends an alive instance on the cloud's initiative, as a spot interruption does: it is
// listed StateTerminated with reason, and OnInterrupt (not OnTerminate) is called. An ended
// instance is left as it is.
func (p *Provider) Interrupt(id, reason string) error {
	p.mu.Lock()
	in, ok := p.instances[id]
	if !ok {
		p.mu.Unlock()
		return fmt.Errorf("fake interrupt %s: %w", id, provider.ErrNotFound)
	}
	if !in.State.Alive() {
		p.mu.Unlock()
		return nil
	}
	in.State, in.Reason = provider.StateTerminated, reason
	delete(p.startAt, id)
	snap := clone(*in)
	hook := p.OnInterrupt
	p.mu.Unlock()
	if hook != nil {
		hook(snap)
	}
	return nil
}

// startLateLocked turns the pending instances whose delayed start is due running.
func (p *Provider) startLateLocked() {
	if len(p.startAt) == 0 {
		return
	}
	now := p.nowLocked()
	for id, at := range p.startAt {
		if now.Before(at) {
			continue
		}
		delete(p.startAt, id)
		if in := p.instances[id]; in != nil && in.State == provider.StatePending {
			in.State = provider.StateRunning
		}
	}
}

func (p *Provider) nowLocked() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}
