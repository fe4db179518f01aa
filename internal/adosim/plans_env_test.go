package adosim_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/adosim"
)

func TestPlanEventsAndLogs(t *testing.T) {
	t.Parallel()
	e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{})
	p := e.org.AddPlan(adosim.PlanSpec{HubName: "checks"})
	plans := e.url + "/" + p.ProjectID + "/_apis/distributedtask/hubs/checks/plans/" + p.PlanID
	event := map[string]any{"name": "TaskCompleted", "taskId": p.TaskInstanceID, "jobId": p.JobID, "result": "succeeded"}

	if r := call(t, "POST", plans+"/events?api-version=7.1", testPAT, event); r.status != http.StatusUnauthorized {
		t.Fatalf("event with the PAT: status %d, want 401 (plan calls take the job token)", r.status)
	}
	if r := call(t, "POST", plans+"/events?api-version=7.1", p.Token, event); r.status != http.StatusNoContent {
		t.Fatalf("event with the plan token: status %d %s, want 204", r.status, r.body)
	}
	other := e.url + "/" + p.ProjectID + "/_apis/distributedtask/hubs/build/plans/" + p.PlanID + "/events"
	if r := call(t, "POST", other, p.Token, event); r.status != http.StatusNotFound {
		t.Fatalf("event on the wrong hub: status %d, want 404", r.status)
	}

	var log struct {
		ID        int   `json:"id"`
		LineCount int64 `json:"lineCount"`
	}
	mustJSONWith(t, p.Token, http.StatusOK, "POST", plans+"/logs", map[string]any{"path": "logs\\check"}, &log)
	mustJSONWith(t, p.Token, http.StatusOK, "POST", plans+"/logs/"+itoa(log.ID), "line one\nline two\n", &log)
	if log.LineCount != 2 {
		t.Fatalf("lineCount after append = %d, want 2", log.LineCount)
	}
	mustJSONWith(t, p.Token, http.StatusNoContent, "POST", plans+"/timelines/"+p.TimelineID+"/records/"+p.TaskInstanceID+"/feed",
		map[string]any{"value": []string{"feed line"}, "count": 1}, nil)

	info, ok := e.org.Plan(p.PlanID)
	if !ok {
		t.Fatal("plan not found")
	}
	if len(info.Events) != 1 || info.Events[0].Name != "TaskCompleted" || info.Events[0].Result != "succeeded" || info.Events[0].JobID != p.JobID {
		t.Fatalf("events = %+v", info.Events)
	}
	if diff := cmp.Diff([]adosim.PlanLog{{ID: 1, Path: "logs\\check", Lines: []string{"line one", "line two"}}}, info.Logs); diff != "" {
		t.Fatalf("logs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"feed line"}, info.Feed); diff != "" {
		t.Fatalf("feed (-want +got):\n%s", diff)
	}
}

func mustJSONWith(t *testing.T, token string, want int, method, url string, body, out any) {
	t.Helper()
	r := call(t, method, url, token, body)
	if r.status != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, url, r.status, want, r.body)
	}
	if out != nil {
		if err := jsonUnmarshal(r.body, out); err != nil {
			t.Fatalf("decode %s: %v", r.body, err)
		}
	}
}

func TestEnvironmentVMResources(t *testing.T) {
	t.Parallel()
	e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{})
	envID, err := e.org.AddEnvironment("web", "prod")
	if err != nil {
		t.Fatal(err)
	}
	rid, err := e.org.AddVMResource("web", envID, adosim.VMSpec{Name: "i-0abc", Tags: []string{"asg-web"}})
	if err != nil {
		t.Fatal(err)
	}

	for _, area := range []string{"distributedtask", "pipelines"} {
		var envs collection[struct {
			ID   int    `json:"id"`
			Name string `json:"name"`
		}]
		mustJSON(t, http.StatusOK, "GET", e.url+"/web/_apis/"+area+"/environments", nil, &envs)
		if envs.Count != 1 || envs.Value[0].ID != envID || envs.Value[0].Name != "prod" {
			t.Fatalf("%s environments = %+v", area, envs)
		}
	}
	vms := e.url + "/web/_apis/distributedtask/environments/" + itoa(envID) + "/providers/virtualmachines"
	var list collection[struct {
		ID    int        `json:"id"`
		Name  string     `json:"name"`
		Type  string     `json:"type"`
		Tags  []string   `json:"tags"`
		Agent *agentJSON `json:"agent"`
	}]
	mustJSON(t, http.StatusOK, "GET", vms, nil, &list)
	if list.Count != 1 || list.Value[0].ID != rid || list.Value[0].Type != "virtualMachine" || list.Value[0].Agent == nil || list.Value[0].Agent.Name != "i-0abc" {
		t.Fatalf("VM resources = %+v", list)
	}
	hiddenAgent := list.Value[0].Agent.ID

	var pool struct {
		ID       int    `json:"id"`
		PoolType string `json:"poolType"`
	}
	mustJSON(t, http.StatusOK, "GET", vms+"/pool", nil, &pool)
	if pool.PoolType != "deployment" {
		t.Fatalf("environment pool type %q, want deployment", pool.PoolType)
	}

	mustJSON(t, http.StatusNoContent, "DELETE", vms+"/"+itoa(rid), nil, nil)
	if r := call(t, "DELETE", vms+"/"+itoa(rid), testPAT, nil); r.status != http.StatusNotFound {
		t.Fatalf("second delete: status %d, want 404", r.status)
	}
	// The hidden agent stays in the deployment pool and blocks re-registering the name...
	if _, err := e.org.AddVMResource("web", envID, adosim.VMSpec{Name: "i-0abc"}); err == nil {
		t.Fatal("re-adding a VM whose agent is still in the deployment pool succeeded")
	}
	// ...until it is removed too.
	mustJSON(t, http.StatusNoContent, "DELETE", e.poolURL(pool.ID)+"/agents/"+itoa(hiddenAgent), nil, nil)
	if _, err := e.org.AddVMResource("web", envID, adosim.VMSpec{Name: "i-0abc"}); err != nil {
		t.Fatalf("re-adding after removing the agent: %v", err)
	}

	if r := call(t, "GET", e.url+"/web/_apis/distributedtask/environments/999/providers/virtualmachines", testPAT, nil); r.status != http.StatusNotFound {
		t.Fatalf("unknown environment: status %d, want 404", r.status)
	}
}
