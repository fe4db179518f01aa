package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
	c := stubClient{base: strings.TrimRight(f["url"], "/"), token: token}
	var pools struct {
		Value []struct {
			ID int `json:"id"`
		} `json:"value"`
	}
	if err := c.do(ctx, "GET", "/_apis/distributedtask/pools", url.Values{"poolName": {f["pool"]}}, nil, &pools); err != nil {
		return 0, err
	}
	if len(pools.Value) != 1 {
		return 0, fmt.Errorf("config: pool %q not found", f["pool"])
	}
	s := stubSettings{URL: c.base, PoolID: pools.Value[0].ID, Name: f["agent"], Pool: f["pool"]}
	agents := fmt.Sprintf("/_apis/distributedtask/pools/%d/agents", s.PoolID)
	var found struct {
		Value []struct {
			ID int `json:"id"`
		} `json:"value"`
	}
	if err := c.do(ctx, "GET", agents, url.Values{"agentName": {s.Name}}, nil, &found); err != nil {
		return 0, err
	}
	in := map[string]any{"name": s.Name, "version": "4.255.0", "enabled": true, "maxParallelism": 1,
		"systemCapabilities": map[string]string{"Agent.OS": "Linux"}}
	var got struct {
		ID int `json:"id"`
	}
	if len(found.Value) > 0 { // --replace
		in["id"] = found.Value[0].ID
		if err := c.do(ctx, "PUT", agents+"/"+strconv.Itoa(found.Value[0].ID), nil, in, &got); err != nil {
			return 0, err
		}
	} else if err := c.do(ctx, "POST", agents, nil, in, &got); err != nil {
		return 0, err
	}
	s.AgentID = got.ID
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
	c := stubClient{base: s.URL, token: token}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := c.do(rctx, "DELETE", fmt.Sprintf("/_apis/distributedtask/pools/%d/agents/%d", s.PoolID, s.AgentID), nil, nil, nil); err != nil {
		return err
	}
	os.Remove(".agent")
	return os.Remove(".credentials")
}

type stubClient struct{ base, token string }

func (c stubClient) do(ctx context.Context, method, path string, q url.Values, in, out any) error {
	if q == nil {
		q = url.Values{}
	}
	q.Set("api-version", "7.1")
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path+"?"+q.Encode(), body)
	if err != nil {
		return err
	}
	req.SetBasicAuth("", c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, data)
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
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
