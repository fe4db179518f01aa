package controller

import "fmt"

// SetStandby changes a pool's standby count (scaler.Policy.Standby) from the next cycle on, for
// standby levels that change over time (a schedule, a prediction) computed outside the
// controller. It waits for a cycle in progress to end, so a cycle never sees two values.
func (c *Controller) SetStandby(poolName string, n int) error {
	p, ok := c.byName[poolName]
	if !ok {
		return fmt.Errorf("set standby: unknown pool %q", poolName)
	}
	if n < 0 {
		return fmt.Errorf("set standby of pool %q: want >= 0, got %d", poolName, n)
	}
	p.cycle.Lock()
	defer p.cycle.Unlock()
	p.mu.Lock() // Status reads the policy under mu
	defer p.mu.Unlock()
	p.cfg.Policy.Standby = n
	return nil
}
