package sim

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/scaler"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

// build makes the stack: Org, server, ADO client, store, controller.
func (r *runner) build(dbPath string) (func(), error) {
	hc := r.buildOrg()
	clock := func() time.Time { return r.now }
	client, err := ado.New(ado.Options{OrgURL: simOrgURL, PAT: simPAT, HTTPClient: hc, MaxRetries: -1})
	if err != nil {
		return nil, fmt.Errorf("sim: ado client: %w", err)
	}
	st, err := sqlite.Open(r.ctx, dbPath, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("sim: store: %w", err)
	}
	p := r.cfg.Policy
	var pcs []controller.PoolConfig
	for _, name := range r.pools {
		id, err := r.org.AddPool(name)
		if err != nil {
			_ = st.Close()
			return nil, fmt.Errorf("sim: add pool %q: %w", name, err)
		}
		r.ids[name] = id
		pcs = append(pcs, controller.PoolConfig{Name: name, Provider: "sim", Policy: scaler.Policy{
			Max: r.cfg.Max, Standby: p.Standby, IdleTimeout: p.IdleTimeout,
			RegistrationTimeout: 10*time.Minute + r.cfg.CycleTime + r.cfg.longestBoot(), OneJobPerAgent: !p.ReuseAgents,
			Capabilities: r.caps[name],
		}})
	}
	r.ctrl, err = controller.New(controller.Options{
		ControllerID: "sim", OrgURL: simOrgURL, ADO: client,
		Providers: controller.ProviderMap{"sim": r.prov}, Store: st, Pools: pcs,
		AgentToken: func() string { return simPAT }, Resync: p.Poll, Now: clock,
		Logger: r.cfg.Logger.With("policy", p.Name), NameFunc: r.agentName,
		JobWaitThreshold: -1, PoolAtMaxThreshold: -1,
	})
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("sim: controller: %w", err)
	}
	return func() { _ = st.Close() }, nil
}

// buildOrg makes the Org, its server and the agents' client, and collects the pools and the
// capabilities their agents offer from the trace. It returns the in-process HTTP client.
func (r *runner) buildOrg() *http.Client {
	clock := func() time.Time { return r.now }
	r.org = adosim.NewOrg(adosim.OrgOptions{Clock: adosim.ClockFunc(clock), Seed: r.cfg.Seed,
		SessionTimeout: longTimeouts, LockDuration: longTimeouts})
	srv := adosim.NewServer(r.org, adosim.ServerOptions{PAT: simPAT, MessagePollTimeout: time.Millisecond})
	hc := &http.Client{Transport: adosim.InProcess{Handler: srv}}
	r.api = adosim.NewAgentClient(simOrgURL, simPAT, hc, adosim.ClockFunc(clock))
	for _, j := range r.cfg.Jobs {
		if _, ok := r.caps[j.Pool]; !ok {
			r.pools = append(r.pools, j.Pool)
			r.caps[j.Pool] = map[string]string{}
		}
		for _, d := range j.Demands {
			name, value, ok := strings.Cut(d, " -equals ")
			if !ok {
				name, value = strings.TrimSpace(d), "true"
			}
			r.caps[j.Pool][strings.TrimSpace(name)] = strings.TrimSpace(value)
		}
	}
	return hc
}

// scratchRoot is where a run's store goes when Config.Dir is empty: memory-backed /dev/shm where
// there is one (the store is scratch, and a disk's syncs would dominate the run), else the
// system's temporary directory.
func scratchRoot() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return ""
}

func (r *runner) agentName(pool string) string {
	r.nameSeq++
	return fmt.Sprintf("%s-%06d", pool, r.nameSeq)
}
