package deploy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
)

// The stub agent stands in for the Azure Pipelines agent's config.sh and run.sh: the test writes
// two scripts that exec this test binary as `stub-agent config|run ARGS`. Like the real agent,
// config registers the agent (replacing one of the same name) and stores its settings and
// credentials in the agent directory; run --once opens a session, takes one job and finishes it;
// config remove deletes the agent. Every call is appended to $STUB_LOG as one JSON line.

// stubCall is one line of the stub log.
type stubCall struct {
	Cmd  string   `json:"cmd"`
	Args []string `json:"args"`
	// TokenInEnv: which token variables the process saw (names only, never values).
	TokenVars []string `json:"tokenVars"`
	AgentID   int      `json:"agentId,omitempty"`
	Err       string   `json:"err,omitempty"`
}

// stubSettings is what config writes for run and remove (the real agent's .agent file).
type stubSettings struct {
	URL     string `json:"url"`
	PoolID  int    `json:"poolId"`
	AgentID int    `json:"agentId"`
	Name    string `json:"name"`
	Pool    string `json:"pool"`
}

func stubAgentMain(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	call := stubCall{Cmd: args[0], Args: args[1:]}
	for _, v := range []string{"AZP_TOKEN", "VSTS_AGENT_INPUT_TOKEN"} {
		if os.Getenv(v) != "" {
			call.TokenVars = append(call.TokenVars, v)
		}
	}
	var err error
	switch {
	case args[0] == "config" && len(args) > 1 && args[1] == "remove":
		err = stubRemove(ctx)
	case args[0] == "config":
		call.AgentID, err = stubConfigure(ctx, args[1:])
	case args[0] == "run":
		err = stubRun(ctx, args[1:])
	default:
		err = fmt.Errorf("unknown stub command %q", args[0])
	}
	if err != nil {
		call.Err = err.Error()
	}
	appendLog(call)
	switch {
	case err != nil && ctx.Err() != nil:
		return 143
	case err != nil:
		fmt.Fprintln(os.Stderr, "stub-agent:", err)
		return 1
	case args[0] == "run" && os.Getenv("STUB_RUN_EXIT") != "":
		code, _ := strconv.Atoi(os.Getenv("STUB_RUN_EXIT"))
		return code
	}
	return 0
}

func appendLog(c stubCall) {
	data, _ := json.Marshal(c)
	f, err := os.OpenFile(os.Getenv("STUB_LOG"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stub-agent: log:", err)
		return
	}
	defer f.Close()
	f.Write(append(data, '\n'))
}

// flags parses the agent's --name value and bare --switch arguments.
func flags(args []string) map[string]string {
	out := map[string]string{}
	for i := 0; i < len(args); i++ {
		name, ok := strings.CutPrefix(args[i], "--")
		if !ok {
			continue
		}
		if i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			out[name] = args[i+1]
			i++
		} else {
			out[name] = "true"
		}
	}
	return out
}

func stubConfigure(ctx context.Context, args []string) (int, error) {
	f := flags(args)
	for _, k := range []string{"unattended", "url", "auth", "pool", "agent", "replace", "acceptTeeEula"} {
		if f[k] == "" {
			return 0, fmt.Errorf("config: --%s is missing", k)
		}
	}
	if _, ok := f["token"]; ok {
		return 0, errors.New("config: the token was passed on the command line")
	}
	token := os.Getenv("VSTS_AGENT_INPUT_TOKEN")
	if token == "" {
		return 0, errors.New("config: VSTS_AGENT_INPUT_TOKEN is not set")
	}
	base := strings.TrimRight(f["url"], "/")
	c := adosim.NewAgentClient(base, token, nil, nil)
	poolID, err := c.FindPool(ctx, f["pool"])
	if err != nil {
		return 0, fmt.Errorf("config: %w", err)
	}
	s := stubSettings{URL: base, PoolID: poolID, Name: f["agent"], Pool: f["pool"]}
	// --replace: an agent of the same name is replaced (a PUT), as config.sh does.
	s.AgentID, err = c.Register(ctx, s.PoolID, adosim.AgentRegistration{Name: s.Name, Capabilities: map[string]string{"Agent.OS": "Linux"}})
	if err != nil {
		return 0, err
	}
	data, _ := json.Marshal(s)
	if err := os.WriteFile(".agent", data, 0o600); err != nil {
		return 0, err
	}
	return s.AgentID, os.WriteFile(".credentials", []byte(token), 0o600)
}

func readSettings() (stubSettings, string, error) {
	var s stubSettings
	data, err := os.ReadFile(".agent")
	if err != nil {
		return s, "", fmt.Errorf("not configured: %w", err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, "", err
	}
	token, err := os.ReadFile(".credentials")
	return s, string(token), err
}

func stubRun(ctx context.Context, args []string) error {
	if len(args) != 1 || args[0] != "--once" {
		return fmt.Errorf("run: args %q, want [--once]", args)
	}
	s, token, err := readSettings()
	if err != nil {
		return err
	}
	// RunAgent registers again by name (a PUT of the same agent), then runs one job.
	return adosim.RunAgent(ctx, adosim.AgentOptions{URL: s.URL, Token: token, Pool: s.Pool, Name: s.Name, Once: true,
		Capabilities: map[string]string{"Agent.OS": "Linux"}})
}

func stubRemove(ctx context.Context) error {
	s, _, err := readSettings()
	if err != nil {
		return err
	}
	// Like the real agent, remove authenticates with the token it is given, not the stored one.
	token := os.Getenv("VSTS_AGENT_INPUT_TOKEN")
	if token == "" {
		return errors.New("remove: VSTS_AGENT_INPUT_TOKEN is not set")
	}
	c := adosim.NewAgentClient(s.URL, token, nil, nil)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := c.DeleteAgent(rctx, s.PoolID, s.AgentID); err != nil {
		return err
	}
	os.Remove(".agent")
	return os.Remove(".credentials")
}

// writeStubAgent writes config.sh and run.sh into dir, each exec'ing this test binary.
func writeStubAgent(dir string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	for _, cmd := range []string{"config", "run"} {
		script := fmt.Sprintf("#!/bin/sh\nexec '%s' stub-agent %s \"$@\"\n", strings.ReplaceAll(exe, "'", `'\''`), cmd)
		if err := os.WriteFile(filepath.Join(dir, cmd+".sh"), []byte(script), 0o755); err != nil {
			return err
		}
	}
	return nil
}
