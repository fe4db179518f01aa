package ecs_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/ecs"
	"github.com/adofleet/adofleet/internal/provider/ecs/ecsfake"
)

func intp(i int) *int { return &i }

func TestListByTagWithStatesAndStopReasons(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ecsfake.Options{PageSize: 2}, nil)
	insts, err := e.prov.Launch(t.Context(), request("tok", agents("prov", "pend", "act", "run", "deact", "pull", "done", "user")))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	byAgent := map[string]string{}
	for _, in := range insts {
		byAgent[in.AgentName] = in.ID
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.fake.SetLastStatus(byAgent["prov"], "PROVISIONING"))
	must(e.fake.SetLastStatus(byAgent["pend"], "PENDING"))
	must(e.fake.SetLastStatus(byAgent["act"], "ACTIVATING"))
	must(e.fake.SetLastStatus(byAgent["deact"], "DEACTIVATING"))
	must(e.fake.StopOnItsOwn(byAgent["pull"], "TaskFailedToStart", "Task failed to start",
		"CannotPullContainerError: pull image manifest has been retried 5 time(s)", nil))
	must(e.fake.StopOnItsOwn(byAgent["done"], "EssentialContainerExited", "Essential container in task exited", "", intp(0)))
	must(e.prov.Terminate(t.Context(), []string{byAgent["user"]}))

	// Tasks that are not ours: another pool of this controller, and another controller's.
	if _, err := e.prov.Launch(t.Context(), func() provider.LaunchRequest {
		r := request("tok-other", agents("elsewhere"))
		r.Pool, r.Tags = "windows", provider.TagsFor("windows", testController, "", "tok-other")
		return r
	}()); err != nil {
		t.Fatalf("Launch other pool: %v", err)
	}
	otherOpts := testOptions()
	otherOpts.Controller = "someone-else"
	other := newProvider(t, e.fake, otherOpts)
	if _, err := other.Launch(t.Context(), provider.LaunchRequest{
		Token: "x", Pool: "linux", Agents: agents("theirs"), Tags: provider.TagsFor("linux", "someone-else", "", "x"),
	}); err != nil {
		t.Fatalf("Launch by another controller: %v", err)
	}

	got, err := e.prov.List(t.Context(), "linux")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	states := map[string]provider.State{}
	reasons := map[string]string{}
	for _, in := range got {
		states[in.AgentName] = in.State
		reasons[in.AgentName] = in.Reason
		if !provider.IsOurs(in, "linux", testController) || in.LaunchedAt.IsZero() {
			t.Errorf("listed %+v: want ours, with a launch time", in)
		}
	}
	want := map[string]provider.State{
		"prov": provider.StatePending, "pend": provider.StatePending, "act": provider.StatePending,
		"run": provider.StateRunning, "deact": provider.StateStopping,
		"pull": provider.StateTerminated, "done": provider.StateTerminated, "user": provider.StateTerminated,
	}
	if diff := cmp.Diff(want, states); diff != "" {
		t.Errorf("states by agent (-want +got):\n%s", diff)
	}
	for agent, sub := range map[string]string{
		"pull": "CannotPullContainerError", "done": "exit code 0", "user": "adofleet: stopped by controller " + testController,
	} {
		if !strings.Contains(reasons[agent], sub) {
			t.Errorf("reason of %s = %q, want it to contain %q", agent, reasons[agent], sub)
		}
	}
	if reasons["run"] != "" {
		t.Errorf("reason of a running task = %q, want empty", reasons["run"])
	}
	if n := len(e.fake.Calls("ListTasks")); n < 4 {
		t.Errorf("ListTasks calls: got %d, want pagination (page size 2) over running and stopped", n)
	}

	// A second List reports nothing new: each stopped task is logged and counted once.
	if _, err := e.prov.List(t.Context(), "linux"); err != nil {
		t.Fatalf("second List: %v", err)
	}
	for class, want := range map[string]float64{ecs.ReasonCannotPull: 1, ecs.ReasonExited: 1, ecs.ReasonUserInitiated: 1} {
		if got := stoppedCount(t, e, "linux", class); got != want {
			t.Errorf("adofleet_ecs_tasks_stopped_total{pool=linux,reason_class=%s} = %v, want %v", class, got, want)
		}
	}
	logs := e.logs.String()
	if n := strings.Count(logs, "CannotPullContainerError"); n != 1 {
		t.Errorf("the pull failure was logged %d times, want once; logs:\n%s", n, logs)
	}
	if !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "reason_class=cannot_pull") {
		t.Errorf("want a warning with the reason class; logs:\n%s", logs)
	}
}

// stoppedCount reads adofleet_ecs_tasks_stopped_total{pool,reason_class} from the registry the
// provider registered it on.
func stoppedCount(t *testing.T, e *env, pool, class string) float64 {
	t.Helper()
	families, err := e.reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() != "adofleet_ecs_tasks_stopped_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["pool"] == pool && labels["reason_class"] == class {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestListManyTasksDescribesInChunks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ecsfake.Options{}, nil)
	if _, err := e.prov.Launch(t.Context(), request("tok", agents(names("a", 205)...))); err != nil {
		t.Fatalf("Launch: %v", err)
	}
	got, err := e.prov.List(t.Context(), "linux")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(got) != 205 {
		t.Errorf("listed %d tasks, want 205", len(got))
	}
	if n := len(e.fake.Calls("DescribeTasks")); n != 3 {
		t.Errorf("DescribeTasks calls: got %d, want 3 (at most 100 tasks each)", n)
	}
}

func TestTerminate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ecsfake.Options{}, nil)
	insts, err := e.prov.Launch(t.Context(), request("tok", agents("a", "b")))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	ids := []string{insts[0].ID, insts[1].ID}
	if err := e.prov.Terminate(t.Context(), ids); err != nil {
		t.Fatalf("Terminate: %v", err)
	}
	for _, id := range ids {
		task, _ := e.fake.Task(id)
		if task.LastStatus != ecsfake.StatusStopped || !strings.HasPrefix(task.StoppedReason, "adofleet: ") {
			t.Errorf("task %s: status %s reason %q, want STOPPED with an adofleet reason", id, task.LastStatus, task.StoppedReason)
		}
	}
	gone := "arn:aws:ecs:us-east-1:123456789012:task/" + testCluster + "/ffffffffffffffffffffffffffffffff"
	if err := e.prov.Terminate(t.Context(), append(ids, gone)); err != nil {
		t.Errorf("Terminate of stopped and unknown tasks: got %v, want nil", err)
	}

	// Other errors are reported, typed.
	bad := newProvider(t, e.fake, func() ecs.Options { o := testOptions(); o.Cluster = "missing"; return o }())
	err = bad.Terminate(t.Context(), ids[:1])
	if !errors.Is(err, provider.ErrInvalidRequest) || !strings.Contains(err.Error(), "ClusterNotFoundException") {
		t.Errorf("Terminate in a missing cluster: got %v, want ErrInvalidRequest (ClusterNotFoundException)", err)
	}
}
