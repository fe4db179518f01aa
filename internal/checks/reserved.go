package checks

// Reserved returns the pool's agents that released a check less than ReserveFor ago and have not
// been seen taking a job since: the controller must not drain them while ADO queues the job they
// were released for. It never waits for a round in progress.
func (c *Callbacker) Reserved(pool string) map[string]bool {
	now := c.opts.Now()
	c.resMu.Lock()
	defer c.resMu.Unlock()
	out := map[string]bool{}
	for name, at := range c.reserved[pool] {
		if now.Sub(at) < c.opts.ReserveFor {
			out[name] = true
		}
	}
	return out
}
