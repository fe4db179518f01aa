package adosim

// Checks on an Environment ("Approvals and checks" on the environment): ADO runs them when a
// deployment job targeting the environment is queued, with the same values as a pool's check, and
// holds the job (which then runs on an agent pool) until they pass. A job whose pool and
// environment both have checks waits for both; either failing or timing out fails it.

// Where a check is configured (CheckInfo.Resource).
const (
	CheckOnPool        = "pool"
	CheckOnEnvironment = "environment"
)

// CheckInfo is one check of a job as the simulator ran it.
type CheckInfo struct {
	Resource string // CheckOnPool or CheckOnEnvironment
	PlanID   string // the check's own plan (hub "checks")
	Calls    int    // calls made to the check URL, retries included
	Waiting  bool   // not decided yet
	Passed   bool
}

func (r *checkRun) info() CheckInfo {
	return CheckInfo{Resource: r.resource, PlanID: r.plan.PlanID, Calls: r.calls, Waiting: r.waiting, Passed: r.passed}
}

// SetEnvironmentCheck configures (replaces) the check of environment envID in project (name or
// id); deployment jobs queued from then on with JobSpec.Environment = envID wait for it.
func (o *Org) SetEnvironmentCheck(project string, envID int, spec CheckSpec) error {
	spec, err := normalizeCheckSpec(spec)
	if err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, err := o.envLocked(project, envID); err != nil {
		return err
	}
	o.envChecks[envID] = &spec
	return nil
}

// ClearEnvironmentCheck removes the environment's check; jobs already waiting keep waiting for it.
func (o *Org) ClearEnvironmentCheck(project string, envID int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, err := o.envLocked(project, envID); err == nil {
		delete(o.envChecks, envID)
	}
}
