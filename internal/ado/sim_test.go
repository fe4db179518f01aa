package ado_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/adosim"
)

// simOrg is an adosim organization served over loopback, with the ids the tests refer to.
type simOrg struct {
	org         *adosim.Org
	srv         *adosim.Server
	url         string
	poolID      int
	placeholder int
	queued      int64
	failed      int64
	envID       int
	resourceID  int
	plan        adosim.PlanSpec
}

func startSim(t *testing.T) *simOrg {
	t.Helper()
	s := &simOrg{org: adosim.NewOrg(adosim.OrgOptions{Name: "fabrikam", Project: "web", Seed: 7})}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	s.poolID, err = s.org.AddPool("linux")
	must(err)
	s.placeholder, err = s.org.AddAgent("linux", adosim.AgentSpec{Name: "adofleet-placeholder-docker",
		SystemCapabilities: map[string]string{"Agent.OS": "Linux", "docker": "/usr/bin/docker"}, Disabled: true})
	must(err)
	s.queued, err = s.org.QueueJob("linux", adosim.JobSpec{Demands: []string{"docker"}, Duration: time.Minute})
	must(err)
	// No agent satisfies this demand, so ADO (and the simulator) fails the job at once.
	s.failed, err = s.org.QueueJob("linux", adosim.JobSpec{Demands: []string{"gpu"}, Duration: time.Minute})
	must(err)
	s.envID, err = s.org.AddEnvironment("web", "production")
	must(err)
	s.resourceID, err = s.org.AddVMResource("web", s.envID, adosim.VMSpec{Name: "i-0abc1234", Tags: []string{"asg:web"}})
	must(err)
	s.plan = s.org.AddPlan(adosim.PlanSpec{HubName: "checks"})

	s.srv = adosim.NewServer(s.org, adosim.ServerOptions{PAT: testPAT, BearerTokens: []string{"entra-token"}})
	run, err := s.srv.Start("")
	must(err)
	t.Cleanup(func() { _ = run.Close() })
	s.url = run.URL
	return s
}

func (s *simOrg) client(t *testing.T, edit func(*ado.Options)) *ado.Client {
	t.Helper()
	opts := ado.Options{OrgURL: s.url, PAT: testPAT}
	if edit != nil {
		edit(&opts)
	}
	c, err := ado.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (s *simOrg) planRef() ado.PlanRef {
	return ado.PlanRef{
		PlanURL: s.url + "/", ProjectID: s.plan.ProjectID, HubName: s.plan.HubName, PlanID: s.plan.PlanID,
		JobID: s.plan.JobID, TimelineID: s.plan.TimelineID, TaskInstanceID: s.plan.TaskInstanceID,
		AuthToken: s.plan.Token,
	}
}

// TestSimulatorPoolsAndAgents runs the pool and agent calls against the simulator over HTTP.
func TestSimulatorPoolsAndAgents(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	c := s.client(t, nil)
	ctx := t.Context()

	p, err := c.FindPool(ctx, "linux")
	if err != nil || p.ID != s.poolID || p.Name != "linux" {
		t.Fatalf("FindPool: got %+v, %v; want pool %d", p, err, s.poolID)
	}
	if _, err := c.FindPool(ctx, "no-such-pool"); !errors.Is(err, ado.ErrNotFound) {
		t.Errorf("FindPool of a missing pool: got %v, want ErrNotFound", err)
	}

	added, err := c.AddAgent(ctx, s.poolID, ado.Agent{Name: "adofleet-placeholder-gpu", Version: "4.255.0",
		UserCapabilities: map[string]string{"gpu": "true"}})
	if err != nil {
		t.Fatalf("AddAgent: %v", err)
	}
	if added.ID == 0 || added.Name != "adofleet-placeholder-gpu" || added.Status != ado.AgentOffline {
		t.Errorf("AddAgent: got %+v, want a new offline agent", added)
	}

	agents, err := c.ListAgents(ctx, s.poolID)
	if err != nil {
		t.Fatalf("ListAgents: %v", err)
	}
	byName := map[string]ado.Agent{}
	for _, a := range agents {
		byName[a.Name] = a
	}
	// The list does not ask for capabilities, and the simulator, as ADO, then sends none.
	if ph := byName["adofleet-placeholder-docker"]; ph.ID != s.placeholder || ph.Enabled || len(ph.Capabilities()) != 0 {
		t.Errorf("ListAgents: placeholder %+v, want id %d, disabled, no capabilities", ph, s.placeholder)
	}
	if gpu := byName["adofleet-placeholder-gpu"]; gpu.ID != added.ID || len(gpu.Capabilities()) != 0 {
		t.Errorf("ListAgents: added agent %+v, want id %d, no capabilities", gpu, added.ID)
	}

	got, err := c.GetAgent(ctx, s.poolID, added.ID)
	if err != nil || got.Name != added.Name || got.Capabilities()["gpu"] != "true" {
		t.Errorf("GetAgent: got %+v, %v; want the agent in full, with gpu=true", got, err)
	}
	if _, err := c.GetAgent(ctx, s.poolID, 99999); !errors.Is(err, ado.ErrNotFound) {
		t.Errorf("GetAgent of a missing agent: got %v, want ErrNotFound", err)
	}

	for _, enabled := range []bool{false, true, false} {
		a, err := c.SetAgentEnabled(ctx, s.poolID, added.ID, enabled)
		if err != nil || a.Enabled != enabled {
			t.Fatalf("SetAgentEnabled(%v): got %+v, %v", enabled, a, err)
		}
		if a, err := c.GetAgent(ctx, s.poolID, added.ID); err != nil || a.Enabled != enabled {
			t.Errorf("GetAgent after SetAgentEnabled(%v): got enabled=%v, %v", enabled, a.Enabled, err)
		}
	}

	if err := c.DeleteAgent(ctx, s.poolID, added.ID); err != nil {
		t.Fatalf("DeleteAgent: %v", err)
	}
	if err := c.DeleteAgent(ctx, s.poolID, added.ID); err != nil {
		t.Errorf("DeleteAgent of an agent already gone: %v, want nil", err)
	}
	if _, err := c.GetAgent(ctx, s.poolID, added.ID); !errors.Is(err, ado.ErrNotFound) {
		t.Errorf("GetAgent after DeleteAgent: got %v, want ErrNotFound", err)
	}
}

func TestSimulatorJobRequests(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	c := s.client(t, nil)
	ctx := t.Context()

	open, err := c.ListJobRequests(ctx, s.poolID)
	if err != nil {
		t.Fatalf("ListJobRequests: %v", err)
	}
	if ids := requestIDs(open); !slices.Equal(ids, []int64{s.queued}) {
		t.Fatalf("ListJobRequests: got requests %v, want only the queued %d", ids, s.queued)
	}
	r := open[0]
	if !r.Queued() || r.Finished() || !slices.Contains(r.Demands, "docker") {
		t.Errorf("queued request: got %+v, want queued with demand docker", r)
	}
	var matched []string
	for _, m := range r.MatchedAgents {
		matched = append(matched, m.Name)
	}
	if len(matched) != 0 {
		t.Errorf("matchedAgents: got %v, want none (ListJobRequests asks with $top, which drops them)", matched)
	}

	done, err := c.ListFinishedJobRequests(ctx, s.poolID, 10)
	if err != nil {
		t.Fatalf("ListFinishedJobRequests: %v", err)
	}
	if ids := requestIDs(done); !slices.Equal(ids, []int64{s.failed}) {
		t.Fatalf("ListFinishedJobRequests: got %v, want the failed request %d", ids, s.failed)
	}
	if res := done[0].Result; res == nil || *res != "failed" {
		t.Errorf("finished request result: got %v, want failed", res)
	}
	if len(done[0].MatchedAgents) != 0 {
		t.Errorf("with $top, got matchedAgents %v, want none", done[0].MatchedAgents)
	}
}

func TestSimulatorEnvironments(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	c := s.client(t, nil)
	ctx := t.Context()

	envs, err := c.ListEnvironments(ctx, "web")
	if err != nil {
		t.Fatalf("ListEnvironments: %v", err)
	}
	if len(envs) != 1 || envs[0].ID != s.envID || envs[0].Name != "production" {
		t.Errorf("ListEnvironments: got %+v, want production (%d)", envs, s.envID)
	}

	res, err := c.ListVMResources(ctx, "web", s.envID)
	if err != nil {
		t.Fatalf("ListVMResources: %v", err)
	}
	if len(res) != 1 || res[0].ID != s.resourceID || res[0].Name != "i-0abc1234" ||
		!slices.Equal(res[0].Tags, []string{"asg:web"}) || res[0].Agent == nil || res[0].Agent.Name != "i-0abc1234" {
		t.Fatalf("ListVMResources: got %+v, want resource %d with its agent", res, s.resourceID)
	}

	if err := c.DeleteVMResource(ctx, "web", s.envID, s.resourceID); err != nil {
		t.Fatalf("DeleteVMResource: %v", err)
	}
	if err := c.DeleteVMResource(ctx, "web", s.envID, s.resourceID); err != nil {
		t.Errorf("DeleteVMResource of a resource already gone: %v, want nil", err)
	}
	if res, err := c.ListVMResources(ctx, "web", s.envID); err != nil || len(res) != 0 {
		t.Errorf("ListVMResources after delete: got %+v, %v; want none", res, err)
	}
	if infos, err := s.org.VMResources("web", s.envID); err != nil || len(infos) != 0 {
		t.Errorf("simulator read-back after delete: got %+v, %v; want none", infos, err)
	}
}

func TestSimulatorPlanCallbacks(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	c := s.client(t, nil)
	ctx := t.Context()
	plan := s.planRef()

	if err := c.AppendLog(ctx, plan, []string{"adofleet: 2 agents ready", "pool linux"}); err != nil {
		t.Fatalf("AppendLog: %v", err)
	}
	if err := c.AppendLog(ctx, plan, []string{"check passed"}); err != nil {
		t.Fatalf("AppendLog (second): %v", err)
	}
	ev := ado.JobEvent{Name: "TaskCompleted", TaskID: plan.TaskInstanceID, JobID: plan.JobID, Result: "succeeded"}
	if err := c.PostJobEvent(ctx, plan, ev); err != nil {
		t.Fatalf("PostJobEvent: %v", err)
	}

	info, ok := s.org.Plan(plan.PlanID)
	if !ok {
		t.Fatal("simulator has no such plan")
	}
	if len(info.Events) != 1 || info.Events[0].Name != "TaskCompleted" || info.Events[0].Result != "succeeded" ||
		info.Events[0].TaskID != plan.TaskInstanceID || info.Events[0].JobID != plan.JobID {
		t.Errorf("recorded events: got %+v, want one TaskCompleted/succeeded for the task", info.Events)
	}
	if len(info.Logs) != 1 {
		t.Fatalf("recorded logs: got %d, want 1 (created once, appended twice)", len(info.Logs))
	}
	if want := []string{"adofleet: 2 agents ready", "pool linux", "check passed"}; !slices.Equal(info.Logs[0].Lines, want) {
		t.Errorf("log lines: got %q, want %q", info.Logs[0].Lines, want)
	}

	// The plan calls take the plan's token; the org PAT is refused there.
	withPAT := plan
	withPAT.AuthToken = testPAT
	if err := c.PostJobEvent(ctx, withPAT, ev); !errors.Is(err, ado.ErrUnauthorized) {
		t.Errorf("PostJobEvent with the PAT: got %v, want ErrUnauthorized", err)
	}
}

func TestSimulatorAuth(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	ctx := t.Context()
	if _, err := s.client(t, func(o *ado.Options) { o.PAT, o.BearerToken = "", "entra-token" }).FindPool(ctx, "linux"); err != nil {
		t.Errorf("bearer token: %v", err)
	}
	_, err := s.client(t, func(o *ado.Options) { o.PAT = "wrong-pat" }).FindPool(ctx, "linux")
	if !errors.Is(err, ado.ErrUnauthorized) {
		t.Errorf("wrong PAT: got %v, want ErrUnauthorized", err)
	}
}

// TestSimulatorFaults: the simulator's throttling and outage answers are retried, and the waits
// come from its Retry-After and X-RateLimit-* headers.
func TestSimulatorFaults(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	var mu sync.Mutex
	var waits []time.Duration
	c := s.client(t, func(o *ado.Options) {
		o.Sleep = func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			waits = append(waits, d)
			mu.Unlock()
			return ctx.Err()
		}
	})
	ctx := t.Context()

	s.srv.SetFaults(adosim.FailFirst(1, *adosim.RateLimited(2 * time.Second), nil))
	before := c.Calls()
	if _, err := c.ListAgents(ctx, s.poolID); err != nil {
		t.Fatalf("ListAgents after a 429: %v", err)
	}
	if got := c.Calls() - before; got != 2 {
		t.Errorf("got %d calls, want 2 (the 429, then the retry)", got)
	}
	mu.Lock()
	if len(waits) == 0 || waits[0] <= 0 || waits[0] > 2*time.Second {
		t.Errorf("got waits %v, want a first wait in (0, 2s] from Retry-After", waits)
	}
	waits = nil
	mu.Unlock()

	s.srv.SetFaults(adosim.FailFirst(2, adosim.Fault{Status: http.StatusServiceUnavailable}, nil))
	if _, err := c.ListJobRequests(ctx, s.poolID); err != nil {
		t.Fatalf("ListJobRequests after two 503s: %v", err)
	}
	s.srv.SetFaults(adosim.FailFirst(1, adosim.Fault{Status: http.StatusServiceUnavailable}, nil))
	if _, err := c.AddAgent(ctx, s.poolID, ado.Agent{Name: "not-retried"}); err == nil {
		t.Error("AddAgent on a 503 without Retry-After: got nil error, want the 503 (not retried)")
	}
	s.srv.SetFaults(nil)
	if agents, err := c.ListAgents(ctx, s.poolID); err != nil {
		t.Fatal(err)
	} else {
		for _, a := range agents {
			if a.Name == "not-retried" {
				t.Error("the failed AddAgent registered an agent")
			}
		}
	}
}
