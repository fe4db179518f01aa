package config_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/config"
)

func TestExamplesLoad(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no examples/*.yaml")
	}
	for _, f := range files {
		cfg, err := config.Load(f)
		if err != nil {
			t.Errorf("Load(%s):\n%v", f, err)
			continue
		}
		if len(cfg.Pools) == 0 {
			t.Errorf("%s: no pools", f)
		}
	}
}

// The run-agent.sh tests run the real script with stand-ins for the agent's config.sh and run.sh
// that record their arguments, as the Azure Pipelines agent package would be laid out.

const runAgentScript = "../../examples/run-agent.sh"

// fakeAgent writes an agent package directory whose scripts append their arguments to log.
// run.sh waits for SIGTERM when block is set, after writing "started" to log.
func fakeAgent(t *testing.T, configExit int, block bool) (pkg, log string) {
	t.Helper()
	dir := t.TempDir()
	pkg = filepath.Join(dir, "pkg")
	log = filepath.Join(dir, "calls.log")
	if err := os.Mkdir(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	// Each script logs the token it can see: config.sh must get it from VSTS_AGENT_INPUT_TOKEN only,
	// and run.sh (the job's parent) must not see it at all.
	config := "#!/bin/sh\necho \"config.sh $* token=${VSTS_AGENT_INPUT_TOKEN:-}${AZP_TOKEN:-}\" >> \"$CALLS\"\n" +
		"if [ \"$1\" != remove ]; then exit " + string(rune('0'+configExit)) + "; fi\n"
	run := "#!/bin/sh\necho \"run.sh $* token=${VSTS_AGENT_INPUT_TOKEN:-}${AZP_TOKEN:-}\" >> \"$CALLS\"\n"
	if block {
		// A group SIGTERM and the script's own forwarded one may both arrive: log the first only.
		run += "trap 'trap \"\" TERM; echo \"run.sh got TERM\" >> \"$CALLS\"; exit 0' TERM\necho started >> \"$CALLS\"\n" +
			"while :; do sleep 0.05; done\n"
	}
	for name, body := range map[string]string{"config.sh": config, "run.sh": run} {
		if err := os.WriteFile(filepath.Join(pkg, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return pkg, log
}

func runAgentCmd(t *testing.T, pkg, log string, extra ...string) *exec.Cmd {
	t.Helper()
	script, err := filepath.Abs(runAgentScript)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", script)
	cmd.Dir = t.TempDir() // the local provider's per-agent working directory
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"CALLS=" + log,
		"AZP_URL=https://dev.azure.com/contoso",
		"AZP_TOKEN=tok",
		"AZP_POOL=linux",
		"AZP_AGENT_NAME=linux-0a1b2c3d",
		"AZP_AGENT_PACKAGE=" + pkg,
	}, extra...)
	return cmd
}

func readCalls(t *testing.T, log string) []string {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

const (
	configCall = "config.sh --unattended --url https://dev.azure.com/contoso --auth pat --pool linux --agent linux-0a1b2c3d --replace token=tok"
	removeCall = "config.sh remove --unattended --auth pat token=tok"
)

func TestRunAgentConfiguresRunsOnceAndRemoves(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		extra []string
		tar   bool
		want  []string
	}{
		{name: "directory package", want: []string{configCall, "run.sh --once token=", removeCall}},
		{name: "tarball package", tar: true, want: []string{configCall, "run.sh --once token=", removeCall}},
		{name: "AZP_ONCE=false", extra: []string{"AZP_ONCE=false"}, want: []string{configCall, "run.sh  token=", removeCall}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pkg, log := fakeAgent(t, 0, false)
			if tt.tar {
				tarball := filepath.Join(t.TempDir(), "agent.tar.gz")
				if out, err := exec.Command("tar", "-czf", tarball, "-C", pkg, ".").CombinedOutput(); err != nil {
					t.Fatalf("tar: %v: %s", err, out)
				}
				pkg = tarball
			}
			cmd := runAgentCmd(t, pkg, log, tt.extra...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("run-agent.sh: %v\n%s", err, out)
			}
			if diff := cmp.Diff(tt.want, readCalls(t, log)); diff != "" {
				t.Errorf("calls mismatch (-want +got):\n%s", diff)
			}
			if _, err := os.Stat(filepath.Join(cmd.Dir, "agent", "run.sh")); err != nil {
				t.Errorf("agent not unpacked into the working directory: %v", err)
			}
		})
	}
}

func TestRunAgentFailedConfigRemovesNothing(t *testing.T) {
	t.Parallel()
	pkg, log := fakeAgent(t, 3, false)
	err := runAgentCmd(t, pkg, log).Run()
	if code := exitCode(err); code != 3 {
		t.Errorf("exit code = %d (%v), want 3 (config.sh's)", code, err)
	}
	if diff := cmp.Diff([]string{configCall}, readCalls(t, log)); diff != "" {
		t.Errorf("calls mismatch (-want +got):\n%s", diff)
	}
}

func TestRunAgentMissingVariable(t *testing.T) {
	t.Parallel()
	pkg, log := fakeAgent(t, 0, false)
	cmd := runAgentCmd(t, pkg, log)
	cmd.Env = slicesDelete(cmd.Env, "AZP_TOKEN=tok")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "AZP_TOKEN is not set") {
		t.Errorf("run-agent.sh without AZP_TOKEN: err=%v, output %q; want a failure naming AZP_TOKEN", err, out)
	}
	if _, statErr := os.Stat(log); statErr == nil {
		t.Errorf("agent scripts ran without a token: %v", readCalls(t, log))
	}
}

func TestRunAgentSIGTERMRemovesConfig(t *testing.T) {
	t.Parallel()
	pkg, log := fakeAgent(t, 0, true)
	cmd := runAgentCmd(t, pkg, log)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // as the local provider starts agents
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait (bounded) until the agent runs, then stop the script as the local provider would.
	for i := 0; ; i++ {
		if b, _ := os.ReadFile(log); strings.Contains(string(b), "started") {
			break
		}
		if i == 2000 {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Fatal("the fake agent never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The local provider signals the agent's whole process group.
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if code := exitCode(err); code != 143 {
		t.Errorf("exit code = %d (%v), want 143", code, err)
	}
	want := []string{configCall, "run.sh --once token=", "started", "run.sh got TERM", removeCall}
	if diff := cmp.Diff(want, readCalls(t, log)); diff != "" {
		t.Errorf("calls mismatch (-want +got):\n%s", diff)
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

func slicesDelete(s []string, v string) []string {
	var out []string
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}
