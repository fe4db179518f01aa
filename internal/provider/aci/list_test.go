package aci_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerinstance/armcontainerinstance/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/aci"
)

// seeded describes a group as Azure would hold it.
type seeded struct {
	name         string
	tags         map[string]string
	provisioning string
	view         string                               // instance view state; "" = none
	container    *armcontainerinstance.ContainerState // agent container's current state
	events       []*armcontainerinstance.Event        // group events
}

func (s seeded) group() armcontainerinstance.ContainerGroup {
	g := armcontainerinstance.ContainerGroup{
		Name: to.Ptr(s.name), Location: to.Ptr("westeurope"), Tags: map[string]*string{},
		Properties: &armcontainerinstance.ContainerGroupPropertiesProperties{
			ProvisioningState: to.Ptr(s.provisioning),
			Containers: []*armcontainerinstance.Container{{
				Name:       to.Ptr(aci.ContainerName),
				Properties: &armcontainerinstance.ContainerProperties{Image: to.Ptr("img")},
			}},
		},
	}
	for k, v := range s.tags {
		g.Tags[k] = to.Ptr(v)
	}
	if s.view != "" || len(s.events) > 0 {
		g.Properties.InstanceView = &armcontainerinstance.ContainerGroupPropertiesInstanceView{Events: s.events}
		if s.view != "" {
			g.Properties.InstanceView.State = to.Ptr(s.view)
		}
	}
	if s.container != nil {
		g.Properties.Containers[0].Properties.InstanceView = &armcontainerinstance.ContainerPropertiesInstanceView{CurrentState: s.container}
	}
	return g
}

func ours(agent string) map[string]string {
	tags := provider.TagsFor(testPool, testController, agent, "tok")
	tags[aci.TagLaunchedAt] = testNow.Add(-time.Minute).Format(time.RFC3339)
	return tags
}

func TestListMapsStatesAndFiltersByTag(t *testing.T) {
	t.Parallel()
	az := newAzure()
	exit0, exit1 := int32(0), int32(1)
	upper := map[string]string{}
	for k, v := range ours("shouty") {
		upper[strings.ToUpper(k)] = v // Azure tag names are case-insensitive
	}
	otherPool := ours("x")
	otherPool[provider.TagPool] = "windows"
	otherController := ours("y")
	otherController[provider.TagController] = "ctl-2"
	for _, s := range []seeded{
		{name: "creating", tags: ours("creating"), provisioning: "Creating"},
		{name: "running", tags: ours("running"), provisioning: "Succeeded", view: "Running",
			container: &armcontainerinstance.ContainerState{State: to.Ptr("Running")}},
		{name: "deployed", tags: ours("deployed"), provisioning: "Succeeded"},
		{name: "done", tags: ours("done"), provisioning: "Succeeded", view: "Succeeded",
			container: &armcontainerinstance.ContainerState{State: to.Ptr("Terminated"), DetailStatus: to.Ptr("Completed"), ExitCode: &exit0}},
		{name: "crashed", tags: ours("crashed"), provisioning: "Succeeded", view: "Failed",
			container: &armcontainerinstance.ContainerState{State: to.Ptr("Terminated"), DetailStatus: to.Ptr("Error"), ExitCode: &exit1}},
		{name: "nopull", tags: ours("nopull"), provisioning: "Failed", events: []*armcontainerinstance.Event{
			{Type: to.Ptr("Normal"), Name: to.Ptr("Pulling"), Message: to.Ptr("pulling image")},
			{Type: to.Ptr("Warning"), Name: to.Ptr("Failed"), Message: to.Ptr("Failed to pull image \"img\"")},
		}},
		{name: "deleting", tags: ours("deleting"), provisioning: "Deleting"},
		{name: "shouty", tags: upper, provisioning: "Succeeded", view: "Running"},
		{name: "other-pool", tags: otherPool, provisioning: "Succeeded", view: "Running"},
		{name: "other-controller", tags: otherController, provisioning: "Succeeded", view: "Running"},
		{name: "untagged", provisioning: "Succeeded", view: "Running"},
	} {
		az.put(s.group())
	}
	p := newProvider(t, az, nil)
	insts, err := p.List(context.Background(), testPool)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	type row struct {
		Agent  string
		State  provider.State
		Reason string
	}
	var got []row
	for _, in := range insts {
		if in.Pool != testPool || in.ID != groupID(testRG, in.AgentName) || !in.LaunchedAt.Equal(testNow.Add(-time.Minute)) {
			t.Errorf("instance %+v: wrong pool, ID or launch time", in)
		}
		got = append(got, row{in.AgentName, in.State, in.Reason})
	}
	want := []row{
		{"crashed", provider.StateTerminated, "group Failed; agent: Terminated (Error), exit code 1"},
		{"creating", provider.StatePending, ""},
		{"deleting", provider.StateStopping, "provisioning Deleting"},
		{"deployed", provider.StateRunning, ""},
		{"done", provider.StateTerminated, "group Succeeded; agent: Terminated (Completed), exit code 0"},
		{"nopull", provider.StateTerminated, "provisioning Failed; Failed: Failed to pull image \"img\""},
		{"running", provider.StateRunning, ""},
		{"shouty", provider.StateRunning, ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}

func TestListSeesWhatLaunchStarted(t *testing.T) {
	t.Parallel()
	az := newAzure()
	p := newProvider(t, az, nil)
	ctx := context.Background()
	if _, err := p.Launch(ctx, launchRequest("tok-1", "a1", "a2", "a3")); err != nil {
		t.Fatalf("Launch: %v", err)
	}
	insts, err := p.List(ctx, testPool)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var got []string
	for _, in := range insts {
		got = append(got, in.AgentName+"="+string(in.State)+" token="+in.Tags[provider.TagToken])
	}
	want := []string{"a1=pending token=tok-1", "a2=pending token=tok-1", "a3=pending token=tok-1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List after Launch (-want +got):\n%s", diff)
	}
	if other, err := p.List(ctx, "windows"); err != nil || len(other) != 0 {
		t.Errorf("List(windows) = %v, %v; want nothing", other, err)
	}
}
