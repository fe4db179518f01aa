package adosim_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/adosim"
)

func TestRunAgentOnceTakesExactlyOneJob(t *testing.T) {
	t.Parallel()
	e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{})
	e.addPool(t, "p")
	// A placeholder keeps the docker jobs queued until the agent comes.
	if _, err := e.org.AddAgent("p", adosim.AgentSpec{Name: "placeholder", SystemCapabilities: map[string]string{"docker": "1"}}); err != nil {
		t.Fatal(err)
	}
	first := e.queue(t, "p", adosim.JobSpec{Demands: []string{"docker"}, Duration: 10 * time.Millisecond})
	second := e.queue(t, "p", adosim.JobSpec{Demands: []string{"docker"}, Duration: 10 * time.Millisecond})

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := adosim.RunAgent(ctx, adosim.AgentOptions{
		URL: e.url, Token: testPAT, Pool: "p", Name: "once-1", Once: true,
		Capabilities: map[string]string{"docker": "1"}, RenewInterval: 2 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("RunAgent: %v", err)
	}
	j1, j2 := e.job(t, first), e.job(t, second)
	if j1.Result != "succeeded" || j1.AgentName != "once-1" || j1.Starts != 1 {
		t.Fatalf("first job: %+v, want succeeded once by once-1", j1)
	}
	if j2.State != adosim.JobQueued || j2.Starts != 0 {
		t.Fatalf("second job: %+v, want still queued, never started", j2)
	}
	var got adosim.AgentInfo
	for _, a := range e.org.Agents("p") {
		if a.Name == "once-1" {
			got = a
		}
	}
	if got.State != adosim.AgentOffline || got.JobsRun != 1 || got.SystemCapabilities["Agent.Version"] == "" {
		t.Fatalf("agent after --once: %+v, want offline with one job run", got)
	}
}

func TestRunAgentServesUntilCanceled(t *testing.T) {
	t.Parallel()
	e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{MessagePollTimeout: 50 * time.Millisecond})
	e.addPool(t, "p")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- adosim.RunAgent(ctx, adosim.AgentOptions{URL: e.url + "/", Token: testPAT, Pool: "p", Name: "long", PollTimeout: 20 * time.Millisecond})
	}()
	waitFor(t, func() bool { s := e.org.AgentsByState("p"); return s[adosim.AgentIdle] == 1 })
	ids := []int64{e.queue(t, "p", adosim.JobSpec{Duration: time.Millisecond}), e.queue(t, "p", adosim.JobSpec{Duration: time.Millisecond})}
	waitFor(t, func() bool {
		for _, id := range ids {
			if e.job(t, id).Result != "succeeded" {
				return false
			}
		}
		return true
	})
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("RunAgent after cancel: %v, want context.Canceled", err)
	}
	if s := e.org.AgentsByState("p"); s[adosim.AgentOffline] != 1 {
		t.Fatalf("agents by state after cancel: %v, want one offline", s)
	}
	if a := e.org.Agents("p")[0]; a.JobsRun != 2 {
		t.Fatalf("JobsRun = %d, want 2", a.JobsRun)
	}
}

func TestRunAgentReplacesSameName(t *testing.T) {
	t.Parallel()
	e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{})
	e.addPool(t, "p")
	old, err := e.org.AddAgent("p", adosim.AgentSpec{Name: "reused"})
	if err != nil {
		t.Fatal(err)
	}
	e.queue(t, "p", adosim.JobSpec{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := adosim.RunAgent(ctx, adosim.AgentOptions{URL: e.url, Token: testPAT, Pool: "p", Name: "reused", Once: true}); err != nil {
		t.Fatalf("RunAgent: %v", err)
	}
	agents := e.org.Agents("p")
	if len(agents) != 1 || agents[0].ID != old || agents[0].JobsRun != 1 {
		t.Fatalf("agents = %+v, want the one agent %d replaced and used", agents, old)
	}
}

func TestRunAgentErrors(t *testing.T) {
	t.Parallel()
	e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{})
	e.addPool(t, "p")
	ctx := context.Background()
	if err := adosim.RunAgent(ctx, adosim.AgentOptions{URL: e.url, Token: "bad", Pool: "p", Name: "x"}); err == nil {
		t.Fatal("RunAgent with a bad token: no error")
	}
	if err := adosim.RunAgent(ctx, adosim.AgentOptions{URL: e.url, Token: testPAT, Pool: "missing", Name: "x"}); err == nil {
		t.Fatal("RunAgent with an unknown pool: no error")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestAgentOptionsFromEnv(t *testing.T) {
	t.Parallel()
	base := map[string]string{"AZP_URL": "http://127.0.0.1:1/sim", "AZP_TOKEN": "tok", "AZP_POOL": "p", "AZP_AGENT_NAME": "a1"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for kk, vv := range base {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    adosim.AgentOptions
		wantErr string
	}{
		{"all set", with("AZP_ONCE", "true"), adosim.AgentOptions{URL: "http://127.0.0.1:1/sim", Token: "tok", Pool: "p", Name: "a1", Once: true}, ""},
		{"once false", with("AZP_ONCE", "false"), adosim.AgentOptions{URL: "http://127.0.0.1:1/sim", Token: "tok", Pool: "p", Name: "a1"}, ""},
		{"default pool", with("AZP_POOL", ""), adosim.AgentOptions{URL: "http://127.0.0.1:1/sim", Token: "tok", Pool: "Default", Name: "a1"}, ""},
		{"capabilities", with("ADOFLEET_CAPABILITIES", `{"docker":"1","Agent.OS":"Linux"}`),
			adosim.AgentOptions{URL: "http://127.0.0.1:1/sim", Token: "tok", Pool: "p", Name: "a1", Capabilities: map[string]string{"docker": "1", "Agent.OS": "Linux"}}, ""},
		{"no url", with("AZP_URL", ""), adosim.AgentOptions{}, "AZP_URL"},
		{"no token", with("AZP_TOKEN", ""), adosim.AgentOptions{}, "AZP_TOKEN"},
		{"bad once", with("AZP_ONCE", "yes"), adosim.AgentOptions{}, "AZP_ONCE"},
		{"bad capabilities", with("ADOFLEET_CAPABILITIES", `{"docker":1}`), adosim.AgentOptions{}, "ADOFLEET_CAPABILITIES"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := adosim.AgentOptionsFromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "tok") {
					t.Fatalf("error %q leaks the token", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("options (-want +got):\n%s", diff)
			}
		})
	}
}
