package adosim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
)

// TestResponsesMatchSpec fetches real responses over HTTP, in every state the simulator can put
// an object in, and validates them against the official definitions (testdata/).
func TestResponsesMatchSpec(t *testing.T) {
	t.Parallel()
	spec := loadSpecSchemas(t)
	e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{})
	poolID := e.addPool(t, "p")

	// State: a placeholder with a finished job behind it, a busy online agent, queued, running,
	// failed and succeeded jobs.
	worker := e.connect(t, poolID, "worker", map[string]string{"docker": "1", "Agent.Version": "4.255.0"})
	done := e.queue(t, "p", adosim.JobSpec{Demands: []string{"docker", "Agent.Version -gtVersion 2.0"}, Duration: time.Second})
	jm := worker.poll()
	if jm == nil || jm.RequestID != done {
		t.Fatalf("poll = %+v", jm)
	}
	worker.finish(jm, "succeeded")
	running := e.queue(t, "p", adosim.JobSpec{Demands: []string{"docker"}})
	if _, err := e.org.AddAgent("p", adosim.AgentSpec{Name: "placeholder", SystemCapabilities: map[string]string{"docker": "1"}}); err != nil {
		t.Fatal(err)
	}
	e.queue(t, "p", adosim.JobSpec{Demands: []string{"docker"}}) // stays queued: worker is busy
	e.queue(t, "p", adosim.JobSpec{Demands: []string{"gpu"}})    // fails at once
	msg := call(t, "GET", worker.url+"/messages?sessionId="+worker.session, testPAT, nil)
	if msg.status != http.StatusOK {
		t.Fatalf("GET messages: %d %s", msg.status, msg.body)
	}
	spec.validate(t, "TaskAgentMessage", msg.body)
	jm = worker.poll()
	if jm == nil || jm.RequestID != running {
		t.Fatalf("second poll = %+v, want %d", jm, running)
	}
	renew := call(t, "PATCH", worker.url+"/jobrequests/"+itoa(int(running))+"?lockToken="+jm.LockToken, testPAT, map[string]any{"requestId": running})
	if renew.status != http.StatusOK {
		t.Fatalf("renew: %d %s", renew.status, renew.body)
	}
	spec.validate(t, "TaskAgentJobRequest", renew.body)

	envID, err := e.org.AddEnvironment("proj", "prod")
	if err != nil {
		t.Fatal(err)
	}
	rid, err := e.org.AddVMResource("proj", envID, adosim.VMSpec{Name: "vm-1", Tags: []string{"web"}, SystemCapabilities: map[string]string{"Agent.OS": "Linux"}})
	if err != nil {
		t.Fatal(err)
	}
	envInfo, err := e.org.Environment("proj", envID)
	if err != nil {
		t.Fatal(err)
	}

	pools := e.url + "/_apis/distributedtask/pools"
	envs := e.url + "/proj/_apis/distributedtask/environments"
	vms := envs + "/" + itoa(envID) + "/providers/virtualmachines"
	group := envs + "/" + itoa(envID) + "/providers/virtualmachinegroups/" + itoa(envInfo.VMGroupID)
	tests := []struct {
		url, def string
	}{
		{pools, "Collection_TaskAgentPool"},
		{pools + "?poolName=p", "Collection_TaskAgentPool"},
		{pools + "/" + itoa(poolID), "TaskAgentPool"},
		{pools + "/" + itoa(envInfo.PoolID), "TaskAgentPool"},
		{pools + "/" + itoa(poolID) + "/agents", "Collection_TaskAgent"},
		{pools + "/" + itoa(poolID) + "/agents?includeCapabilities=true&includeAssignedRequest=true&includeLastCompletedRequest=true", "Collection_TaskAgent"},
		{pools + "/" + itoa(poolID) + "/agents/" + itoa(worker.id) + "?includeAssignedRequest=true&includeLastCompletedRequest=true", "TaskAgent"},
		{pools + "/" + itoa(poolID) + "/jobrequests", "Collection_TaskAgentJobRequest"},
		{pools + "/" + itoa(poolID) + "/jobrequests?$top=100", "Collection_TaskAgentJobRequest"},
		{pools + "/" + itoa(poolID) + "/jobrequests?completedRequestCount=0", "Collection_TaskAgentJobRequest"},
		{pools + "/" + itoa(poolID) + "/jobrequests/" + itoa(int(done)), "TaskAgentJobRequest"},
		{envs, "Collection_EnvironmentInstance"},
		{envs + "/" + itoa(envID) + "?expands=resourceReferences", "EnvironmentInstance"},
		{vms, "Collection_VirtualMachineResource"},
		{vms + "/" + itoa(rid), "VirtualMachineResource"},
		{vms + "/pool", "TaskAgentPoolReference"},
		{e.url + "/proj/_apis/pipelines/environments/" + itoa(envID) + "/providers/virtualmachines", "Collection_VirtualMachineResource"},
		{group, "VirtualMachineGroup"},
		{group + "/virtualmachines", "Collection_VirtualMachine"},
	}
	for _, tc := range tests {
		r := call(t, "GET", tc.url, testPAT, nil)
		if r.status != http.StatusOK {
			t.Errorf("GET %s: status %d %s", tc.url, r.status, r.body)
			continue
		}
		spec.validate(t, tc.def, r.body)
	}

	added := call(t, "POST", pools+"/"+itoa(poolID)+"/agents", testPAT, map[string]any{
		"name": "new", "version": "4.255.0", "systemCapabilities": map[string]string{"a": "b"},
		"authorization": map[string]any{"publicKey": map[string]string{"exponent": "AQAB", "modulus": "AAAA"}},
	})
	if added.status != http.StatusOK {
		t.Fatalf("POST agent: %d %s", added.status, added.body)
	}
	spec.validate(t, "TaskAgent", added.body)
	var newAgent agentJSON
	if err := jsonUnmarshal(added.body, &newAgent); err != nil {
		t.Fatal(err)
	}
	sess := call(t, "POST", pools+"/"+itoa(poolID)+"/sessions", testPAT, map[string]any{"ownerName": "new", "agent": map[string]any{"id": newAgent.ID}})
	if sess.status != http.StatusOK {
		t.Fatalf("POST session: %d %s", sess.status, sess.body)
	}
	spec.validate(t, "TaskAgentSession", sess.body)
	patched := call(t, "PATCH", pools+"/"+itoa(poolID)+"/agents/"+itoa(worker.id), testPAT, map[string]any{"enabled": false})
	if patched.status != http.StatusOK {
		t.Fatalf("PATCH agent: %d %s", patched.status, patched.body)
	}
	spec.validate(t, "TaskAgent", patched.body)
}

// The closed schemas must catch a field ADO does not have, or the test above proves little.
func TestSpecSchemasRejectUnknownFields(t *testing.T) {
	t.Parallel()
	spec := loadSpecSchemas(t)
	for _, tc := range []struct{ def, body string }{
		{"TaskAgentJobRequest", `{"requestId": 1, "lockedUntill": "2026-01-01T00:00:00Z"}`},
		{"TaskAgent", `{"id": 1, "status": "busy"}`},
		{"Collection_TaskAgentPool", `{"count": 1, "value": [{"id": "one"}]}`},
		{"TaskAgentJobRequest", `{"requestId": 1, "demands": [{"name": "docker"}]}`},
	} {
		if err := validateErr(t, spec, tc.def, []byte(tc.body)); err == nil {
			t.Errorf("%s accepted %s", tc.def, tc.body)
		}
	}
}
