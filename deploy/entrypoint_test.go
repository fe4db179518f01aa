package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
)

const entrypointPAT = "entrypoint-test-pat-0123456789abcdef"

// entrypointRun is one run of deploy/agent/entrypoint.sh against the simulator with the stub agent.
type entrypointRun struct {
	org    *adosim.Org
	cmd    *exec.Cmd
	out    bytes.Buffer
	logPth string
}

// startEntrypoint starts the entrypoint with the stub agent in a temp dir; env adds variables.
func startEntrypoint(t *testing.T, ctx context.Context, env ...string) *entrypointRun {
	t.Helper()
	org := adosim.NewOrg(adosim.OrgOptions{Name: "contoso"})
	if _, err := org.AddPool("build"); err != nil {
		t.Fatal(err)
	}
	sim, err := adosim.NewServer(org, adosim.ServerOptions{PAT: entrypointPAT}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	dir := t.TempDir()
	if err := writeStubAgent(dir); err != nil {
		t.Fatal(err)
	}
	r := &entrypointRun{org: org, logPth: filepath.Join(dir, "stub.log")}
	r.cmd = exec.CommandContext(ctx, filepath.Join(repoRoot(t), "deploy", "agent", "entrypoint.sh"))
	r.cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"AZP_URL=" + sim.URL, "AZP_POOL=build", "AZP_AGENT_NAME=build-7f3a",
		"AZP_AGENT_DIR=" + dir, "STUB_LOG=" + r.logPth,
	}, env...)
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return r
}

// wait returns the entrypoint's exit code.
func (r *entrypointRun) wait(t *testing.T) int {
	t.Helper()
	err := r.cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	default:
		t.Fatalf("entrypoint: %v\n%s", err, r.out.String())
		return -1
	}
}

func (r *entrypointRun) calls(t *testing.T) []stubCall {
	t.Helper()
	f, err := os.Open(r.logPth)
	if err != nil {
		t.Fatalf("stub log: %v\nentrypoint output:\n%s", err, r.out.String())
	}
	defer f.Close()
	var out []stubCall
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var c stubCall
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// agentOnline waits until the named agent is online in the simulator and returns its ID.
func agentOnline(t *testing.T, ctx context.Context, org *adosim.Org, name string) int {
	t.Helper()
	for {
		for _, a := range org.Agents("build") {
			if a.Name == name && a.Online {
				return a.ID
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("agent %s never came online", name)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// checkCalls asserts the stub saw config, run --once and remove, in that order, and never the
// token on a command line or in the job's environment.
func checkCalls(t *testing.T, calls []stubCall, wantRunErr bool) {
	t.Helper()
	var cmds []string
	for _, c := range calls {
		cmd := c.Cmd
		if len(c.Args) > 0 && c.Args[0] == "remove" {
			cmd = "remove"
		}
		cmds = append(cmds, cmd)
		if slices.Contains(c.Args, entrypointPAT) {
			t.Errorf("%s got the token on its command line", cmd)
		}
		if c.Err != "" && !(cmd == "run" && wantRunErr) {
			t.Errorf("%s failed: %s", cmd, c.Err)
		}
		switch cmd {
		case "run":
			if len(c.TokenVars) != 0 {
				t.Errorf("the job's environment holds %v, want no token variable", c.TokenVars)
			}
		case "config", "remove":
			if !slices.Equal(c.TokenVars, []string{"VSTS_AGENT_INPUT_TOKEN"}) {
				t.Errorf("%s saw token variables %v, want only VSTS_AGENT_INPUT_TOKEN", cmd, c.TokenVars)
			}
		}
	}
	if want := []string{"config", "run", "remove"}; !slices.Equal(cmds, want) {
		t.Errorf("agent commands = %v, want %v", cmds, want)
	}
}

// TestEntrypointRunsOneJobAndRemovesTheAgent: two jobs are queued; the agent registers under its
// name, runs exactly one, removes itself and exits with run.sh's status.
func TestEntrypointRunsOneJobAndRemovesTheAgent(t *testing.T) {
	t.Parallel()
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(entrypointPAT), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		env      []string
		wantExit int
	}{
		{"token in AZP_TOKEN", []string{"AZP_TOKEN=" + entrypointPAT}, 0},
		{"token in AZP_TOKEN_FILE", []string{"AZP_TOKEN_FILE=" + tokenFile}, 0},
		{"agent exit status is passed on", []string{"AZP_TOKEN=" + entrypointPAT, "STUB_RUN_EXIT=3"}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			r := startEntrypoint(t, ctx, tc.env...)
			id := agentOnline(t, ctx, r.org, "build-7f3a")
			for range 2 {
				if _, err := r.org.QueueJob("build", adosim.JobSpec{Duration: 50 * time.Millisecond}); err != nil {
					t.Fatal(err)
				}
			}
			if got := r.wait(t); got != tc.wantExit {
				t.Errorf("exit code = %d, want %d\n%s", got, tc.wantExit, r.out.String())
			}
			var ran []int64
			for _, j := range r.org.Jobs() {
				if j.Starts > 0 {
					ran = append(ran, j.RequestID)
					if j.AgentID != id || j.Result != "succeeded" || j.Starts != 1 {
						t.Errorf("job %d: agent %d, result %q, starts %d; want agent %d, succeeded, once", j.RequestID, j.AgentID, j.Result, j.Starts, id)
					}
				}
			}
			if len(ran) != 1 {
				t.Errorf("jobs run = %v, want exactly one", ran)
			}
			if got := r.org.Agents("build"); len(got) != 0 {
				t.Errorf("agents left in the pool: %+v, want none", got)
			}
			checkCalls(t, r.calls(t), false)
			if strings.Contains(r.out.String(), entrypointPAT) {
				t.Error("the entrypoint printed the token")
			}
		})
	}
}

// TestEntrypointSIGTERMWhileWaitingRemovesTheAgent: ECS StopTask sends SIGTERM to an agent that
// is still waiting for a job; it must leave the pool and exit 143.
func TestEntrypointSIGTERMWhileWaitingRemovesTheAgent(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := startEntrypoint(t, ctx, "AZP_TOKEN="+entrypointPAT)
	agentOnline(t, ctx, r.org, "build-7f3a")
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if got := r.wait(t); got != 143 {
		t.Errorf("exit code = %d, want 143\n%s", got, r.out.String())
	}
	if got := r.org.Agents("build"); len(got) != 0 {
		t.Errorf("agents left in the pool: %+v, want none", got)
	}
	checkCalls(t, r.calls(t), true)
}

// TestEntrypointRefusesWithoutAToken: no token, no registration.
func TestEntrypointRefusesWithoutAToken(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := startEntrypoint(t, ctx)
	if got := r.wait(t); got != 1 {
		t.Errorf("exit code = %d, want 1", got)
	}
	if !strings.Contains(r.out.String(), "AZP_TOKEN") {
		t.Errorf("output %q does not name AZP_TOKEN", r.out.String())
	}
	if _, err := os.Stat(r.logPth); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stub agent was called (log: %v)", err)
	}
}
