package ec2_test

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/ec2"
	"github.com/adofleet/adofleet/internal/provider/ec2/ec2fake"
)

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

func TestListByTagWithStates(t *testing.T) {
	t.Parallel()
	p, fake := newProvider(t, nil)
	fake.PageSize = 2 // force pagination
	insts, err := p.Launch(ctx, request("tok", "a1", "a2", "a3", "a4", "a5"))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	byAgent := map[string]string{}
	for _, in := range insts {
		byAgent[in.AgentName] = in.ID
	}
	fake.SetState(byAgent["a2"], "running", "", "")
	fake.SetState(byAgent["a3"], "shutting-down", "Client.InstanceInitiatedShutdown", "Client.InstanceInitiatedShutdown: Instance initiated shutdown")
	fake.SetState(byAgent["a4"], "terminated", "Server.SpotInstanceTermination", "Server.SpotInstanceTermination: Spot instance termination")
	fake.SetState(byAgent["a5"], "stopped", "Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown")
	// Not ours: another pool, another controller.
	other := request("tok-x", "b1")
	other.Pool, other.Tags = "windows", provider.TagsFor("windows", controllerID, "", "tok-x")
	if _, err := p.Launch(ctx, other); err != nil {
		t.Fatal(err)
	}
	stranger := request("tok-y", "c1")
	stranger.Tags = provider.TagsFor("linux", "someone-else", "", "tok-y")
	if _, err := p.Launch(ctx, stranger); err != nil {
		t.Fatal(err)
	}

	got, err := p.List(ctx, "linux")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	type row struct {
		Agent  string
		State  provider.State
		Reason string
	}
	var rows []row
	for _, in := range got {
		if in.Pool != "linux" || in.Tags[provider.TagController] != controllerID || !in.LaunchedAt.Equal(epoch) {
			t.Errorf("instance %s: pool %q controller %q launched %v, want linux %s %v", in.ID, in.Pool, in.Tags[provider.TagController], in.LaunchedAt, controllerID, epoch)
		}
		rows = append(rows, row{in.AgentName, in.State, in.Reason})
	}
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.Agent, b.Agent) })
	want := []row{
		{"a1", provider.StatePending, ""},
		{"a2", provider.StateRunning, ""},
		{"a3", provider.StateStopping, "Client.InstanceInitiatedShutdown: Instance initiated shutdown"},
		{"a4", provider.StateTerminated, "Server.SpotInstanceTermination: Spot instance termination"},
		{"a5", provider.StateStopping, "Client.UserInitiatedShutdown: User initiated shutdown"},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	if n := len(fake.Calls("DescribeInstances")); n < 3 {
		t.Errorf("DescribeInstances calls = %d, want pages of 2 (at least 3 calls for the list)", n)
	}
	last := fake.Calls("DescribeInstances")[len(fake.Calls("DescribeInstances"))-1]
	if last.Params.Get("NextToken") == "" {
		t.Error("last DescribeInstances page was requested without NextToken: List did not paginate")
	}
}

func TestTerminate(t *testing.T) {
	t.Parallel()
	p, fake := newProvider(t, nil)
	insts, err := p.Launch(ctx, request("tok", "a1", "a2"))
	if err != nil {
		t.Fatal(err)
	}
	// Already-gone IDs, mixed with live ones, are not errors; more than 1000 IDs are batched.
	req := []string{insts[0].ID}
	for i := range 1000 {
		req = append(req, fmt.Sprintf("i-%017x", 0xfff000+i))
	}
	req = append(req, insts[1].ID)
	if err := p.Terminate(ctx, req); err != nil {
		t.Fatalf("Terminate: %v", err)
	}
	for _, in := range fake.Instances() {
		if in.State != "terminated" {
			t.Errorf("instance %s is %s, want terminated", in.ID, in.State)
		}
	}
	for _, c := range fake.Calls("TerminateInstances") {
		n := 0
		for k := range c.Params {
			if strings.HasPrefix(k, "InstanceId.") {
				n++
			}
		}
		if n > ec2.MaxTerminateBatch {
			t.Errorf("TerminateInstances with %d ids, limit %d", n, ec2.MaxTerminateBatch)
		}
	}
	if err := p.Terminate(ctx, []string{"i-00000000000000bad"}); err != nil {
		t.Errorf("Terminate(gone) = %v, want nil", err)
	}
	fake.Fail(ec2fake.Fault{Action: "TerminateInstances", Code: "UnauthorizedOperation", Message: "denied"})
	if err := p.Terminate(ctx, ids(insts)); err == nil {
		t.Error("Terminate with UnauthorizedOperation = nil, want an error")
	}
}

func TestDefaultUserDataPassesShellcheck(t *testing.T) {
	t.Parallel()
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Skip("shellcheck not installed")
	}
	for _, mod := range []func(*ec2.Options){
		func(o *ec2.Options) {},
		func(o *ec2.Options) {
			o.TokenParameter = "/x/token"
			o.AgentPackageURL = "https://example.invalid/agent.tgz"
		},
	} {
		p, fake := newProvider(t, mod)
		if _, err := p.Launch(ctx, request("tok", "it's-a1")); err != nil {
			t.Fatal(err)
		}
		script := decode(t, fake.Instances()[0].UserData)
		cmd := exec.Command(sc, "-s", "bash", "-")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("shellcheck: %v\n%s\nscript:\n%s", err, out, script)
		}
		if !strings.Contains(script, `export AZP_AGENT_NAME='it'\''s-a1'`) {
			t.Errorf("agent name not shell-quoted:\n%s", script)
		}
	}
}
