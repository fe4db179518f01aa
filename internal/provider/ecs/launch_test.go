package ecs_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/ecs"
	"github.com/adofleet/adofleet/internal/provider/ecs/ecsfake"
)

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}

func TestLaunchOneTaskPerAgent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ecsfake.Options{}, nil)
	want := names("linux", 25)
	insts, err := e.prov.Launch(t.Context(), request("tok1", agents(want...)))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	var got []string
	for _, in := range insts {
		got = append(got, in.AgentName)
		if in.State != provider.StateRunning || in.Pool != "linux" || !strings.Contains(in.ID, ":task/"+testCluster+"/") {
			t.Errorf("instance %+v: want a running task of pool linux in cluster %s", in, testCluster)
		}
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("launched agents (-want +got):\n%s", diff)
	}

	bodies := runTaskBodies(t, e.fake)
	if got, want := len(bodies), 25; got != want {
		t.Fatalf("RunTask calls: got %d, want %d", got, want)
	}
	tokens := map[string]bool{}
	for _, b := range bodies {
		if got := b["count"]; got != float64(1) {
			t.Errorf("count: got %v, want 1", got)
		}
		if got, want := b["startedBy"], "adofleet/"+testController; got != want {
			t.Errorf("startedBy: got %v, want %v", got, want)
		}
		if b["propagateTags"] != "NONE" || b["enableECSManagedTags"] != true {
			t.Errorf("propagateTags %v, enableECSManagedTags %v: want NONE, true", b["propagateTags"], b["enableECSManagedTags"])
		}
		tokens[b["clientToken"].(string)] = true
	}
	if got := len(tokens); got != 25 {
		t.Errorf("distinct client tokens: got %d, want 25", got)
	}

	tasks := e.fake.Tasks()
	seen := map[string]bool{}
	for _, task := range tasks {
		agent := task.Tags[provider.TagAgent]
		wantTags := map[string]string{
			provider.TagPool: "linux", provider.TagController: testController, provider.TagAgent: agent,
			provider.TagToken: "tok1", "aws:ecs:clusterName": testCluster,
		}
		if diff := cmp.Diff(wantTags, task.Tags); diff != "" {
			t.Errorf("task %s tags (-want +got):\n%s", task.ARN, diff)
		}
		env := task.Env[testContainer]
		if got := env[ecs.AgentNameEnv]; got != agent || seen[got] {
			t.Errorf("task %s: AZP_AGENT_NAME %q, want its own agent name %q", task.ARN, got, agent)
		}
		seen[agent] = true
		if v, ok := env[ecs.TokenEnv]; ok {
			t.Errorf("task %s: the token is in the plain environment (%d chars); it must come from the secret", task.ARN, len(v))
		}
		if env["AZP_URL"] != "https://dev.azure.com/org" || env["FROM_OPTIONS"] != "1" || env["AZP_ONCE"] != "true" {
			t.Errorf("task %s: env %v lacks the request's and the options' variables", task.ARN, env)
		}
		if task.CPU != "512" || task.Memory != "1024" || task.PublicIP != "DISABLED" ||
			!slices.Equal(task.Subnets, []string{"subnet-a", "subnet-b"}) || task.CapacityProvider != "FARGATE_SPOT" {
			t.Errorf("task %s: cpu %q memory %q publicIP %q subnets %v capacity provider %q", task.ARN,
				task.CPU, task.Memory, task.PublicIP, task.Subnets, task.CapacityProvider)
		}
	}
	for _, c := range e.fake.Calls("") {
		if strings.Contains(string(c.Body), "pat-secret-value") {
			t.Errorf("%s request carries the registration token", c.Op)
		}
	}

	// The task definition's secrets were checked once, not per launch.
	if _, err := e.prov.Launch(t.Context(), request("tok2", agents("other"))); err != nil {
		t.Fatalf("second Launch: %v", err)
	}
	if got := len(e.fake.Calls("DescribeTaskDefinition")); got != 1 {
		t.Errorf("DescribeTaskDefinition calls: got %d, want 1", got)
	}
}

func TestLaunchIdempotentPerToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ecsfake.Options{}, nil)
	req := request("same", agents("a", "b", "c"))
	first, err := e.prov.Launch(t.Context(), req)
	if err != nil {
		t.Fatalf("first Launch: %v", err)
	}
	second, err := e.prov.Launch(t.Context(), req)
	if err != nil {
		t.Fatalf("second Launch: %v", err)
	}
	ids := func(in []provider.Instance) []string {
		var out []string
		for _, i := range in {
			out = append(out, i.AgentName+"="+i.ID)
		}
		slices.Sort(out)
		return out
	}
	if diff := cmp.Diff(ids(first), ids(second)); diff != "" {
		t.Errorf("instances of the repeated launch (-first +second):\n%s", diff)
	}
	if got, want := len(e.fake.Tasks()), 3; got != want {
		t.Errorf("tasks in ECS: got %d, want %d", got, want)
	}
	// A different token is a different launch.
	if _, err := e.prov.Launch(t.Context(), request("other", agents("a"))); err != nil {
		t.Fatalf("Launch with another token: %v", err)
	}
	if got, want := len(e.fake.Tasks()), 4; got != want {
		t.Errorf("tasks after a new token: got %d, want %d", got, want)
	}
}

func TestLaunchPartialFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ecsfake.Options{}, nil)
	reasons := map[string]string{
		"mem":   "RESOURCE:MEMORY",
		"spot":  "Capacity is unavailable at this time. Please try again later or in a different availability zone",
		"agent": "AGENT",
		"attr":  "ATTRIBUTE",
	}
	e.fake.FailRunTask(func(task ecsfake.Task) string {
		return reasons[task.Tags[provider.TagAgent]]
	})
	insts, err := e.prov.Launch(t.Context(), request("tok", agents("ok1", "mem", "spot", "ok2", "agent", "attr")))
	var partial *provider.PartialError
	if !errors.As(err, &partial) {
		t.Fatalf("Launch error: got %v, want a *provider.PartialError", err)
	}
	var started []string
	for _, in := range insts {
		started = append(started, in.AgentName)
	}
	slices.Sort(started)
	if diff := cmp.Diff([]string{"ok1", "ok2"}, started); diff != "" {
		t.Errorf("started (-want +got):\n%s", diff)
	}
	want := map[string]error{
		"mem": provider.ErrInsufficientCapacity, "spot": provider.ErrInsufficientCapacity,
		"agent": provider.ErrInsufficientCapacity, "attr": provider.ErrInvalidRequest,
	}
	if got, want := len(partial.Failed), len(want); got != want {
		t.Errorf("failed agents: got %d (%v), want %d", got, partial.Failed, want)
	}
	for agent, target := range want {
		if got := partial.Failed[agent]; !errors.Is(got, target) || !strings.Contains(got.Error(), reasons[agent]) {
			t.Errorf("agent %s: got %v, want %v carrying the ECS reason", agent, got, target)
		}
	}
	if !errors.Is(err, provider.ErrInsufficientCapacity) {
		t.Errorf("errors.Is(err, ErrInsufficientCapacity) = false for %v", err)
	}
}

func TestLaunchThrottlingIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ecsfake.Options{}, nil)
	e.fake.ThrottleNext(3)
	insts, err := e.prov.Launch(t.Context(), request("tok", agents("a")))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	if len(insts) != 1 {
		t.Fatalf("instances: got %d, want 1", len(insts))
	}
	throttled := 0
	for _, c := range e.fake.Calls("") {
		if c.Throttled {
			throttled++
		}
	}
	if throttled != 3 {
		t.Errorf("throttled calls: got %d, want 3", throttled)
	}
	if got := len(e.fake.Tasks()); got != 1 {
		t.Errorf("tasks: got %d, want 1 (a retried RunTask must not start a second task)", got)
	}

	// Throttled past the retryer's attempts: the launch fails, with no typed error claimed.
	e.fake.ThrottleNext(1000)
	_, err = e.prov.Launch(t.Context(), request("tok2", agents("b")))
	e.fake.ThrottleNext(0)
	if err == nil || !strings.Contains(err.Error(), "ThrottlingException") {
		t.Errorf("Launch under constant throttling: got %v, want a ThrottlingException", err)
	}
}

func TestLaunchInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(*ecsfake.Fake)
		req   provider.LaunchRequest
	}{
		{name: "unknown task definition", req: func() provider.LaunchRequest {
			r := request("t", agents("a"))
			r.Template = "no-such-family:3"
			return r
		}()},
		{name: "secret not declared by the task definition", setup: func(f *ecsfake.Fake) {
			f.RegisterTaskDefinition(testFamily, ecsfake.Container{Name: testContainer}) // revision 2, no secrets
		}, req: request("t", agents("a"))},
		{name: "no agent container", setup: func(f *ecsfake.Fake) {
			f.RegisterTaskDefinition(testFamily, ecsfake.Container{Name: "sidecar"})
		}, req: request("t", agents("a"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, ecsfake.Options{}, nil)
			if tt.setup != nil {
				tt.setup(e.fake)
			}
			_, err := e.prov.Launch(t.Context(), tt.req)
			if !errors.Is(err, provider.ErrInvalidRequest) {
				t.Errorf("Launch: got %v, want ErrInvalidRequest", err)
			}
			if got := len(e.fake.Calls("RunTask")); got != 0 {
				t.Errorf("RunTask calls: got %d, want 0", got)
			}
		})
	}
}

func TestNewValidatesOptions(t *testing.T) {
	t.Parallel()
	f := ecsfake.New(ecsfake.Options{})
	defer f.Close()
	tests := []struct {
		name string
		mod  func(*ecs.Options)
		want string
	}{
		{"no cluster", func(o *ecs.Options) { o.Cluster = "" }, "Cluster"},
		{"no task definition", func(o *ecs.Options) { o.TaskDefinition = "" }, "TaskDefinition"},
		{"no controller", func(o *ecs.Options) { o.Controller = "" }, "Controller"},
		{"launch type and strategy", func(o *ecs.Options) { o.LaunchType = "FARGATE" }, "not both"},
		{"no token secret", func(o *ecs.Options) { o.Secrets = nil }, ecs.TokenEnv},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := testOptions()
			tt.mod(&opts)
			_, err := ecs.New(newClient(f), opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: got %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

func TestStartedByFitsECSLimit(t *testing.T) {
	t.Parallel()
	f := ecsfake.New(ecsfake.Options{})
	defer f.Close()
	for _, id := range []string{"ctl-1", strings.Repeat("x", 60), "has spaces and é"} {
		opts := testOptions()
		opts.Controller = id
		p, err := ecs.New(newClient(f), opts)
		if err != nil {
			t.Fatalf("New(%q): %v", id, err)
		}
		if got := p.StartedBy(); len(got) > 36 || strings.ContainsAny(got, " é") {
			t.Errorf("StartedBy for %q = %q: want at most 36 of [A-Za-z0-9_/-]", id, got)
		}
	}
}
