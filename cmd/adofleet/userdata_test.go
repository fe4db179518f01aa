package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// userDataPAT is the registration PAT the fake SSM returns; it must reach config.sh's
// environment and nothing else.
const userDataPAT = "userdata-pat-0123456789abcdefghij"

const userDataConfig = `organization:
  url: https://dev.azure.com/contoso
  pat: env:ADO_PAT
providers:
  local:
    command: [./agent.sh]
pools:
  - name: linux
    provider: local
    max: 1
vmResources:
  environments:
    - project: Shop's "web"
      environment: prod env
      autoScalingGroups: [web-prod]
      tags: [web, "it's eu", "$(touch pwned)"]
      tokenParameter: /adofleet/environment-pat
      agentUrl: {agentUrl}
    - project: shop
      environment: staging
      autoScalingGroups: [web-staging]
      tokenParameter: /adofleet/environment-pat
    - project: other
      environment: staging
      autoScalingGroups: [other-staging]
    - project: notoken
      environment: notoken
      autoScalingGroups: [notoken]
`

// writeUserDataConfig writes the config with agentURL as the first environment's agentUrl.
func writeUserDataConfig(t *testing.T, agentURL string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "adofleet.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(userDataConfig, "{agentUrl}", agentURL)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func userData(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, err := runCLI(context.Background(), append([]string{"userdata"}, args...)...)
	if err != nil {
		t.Fatalf("userdata %v: %v\n%s", args, err, stderr)
	}
	return out
}

func TestUserDataBashPassesShellcheck(t *testing.T) {
	t.Setenv("ADO_PAT", "x")
	bin, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Fatal("shellcheck is not installed (apt-get install shellcheck; .ci/run installs it)")
	}
	cfg := writeUserDataConfig(t, "https://example.com/agent.tar.gz")
	for _, args := range [][]string{
		{"--environment", "prod env"},                     // tags, agentUrl
		{"--environment", "staging", "--project", "shop"}, // no tags, default agent URLs
		{"--environment", "STAGING", "--project", "SHOP", "--agent-dir", "/srv/it's here"},
	} {
		script := userData(t, append([]string{"-c", cfg}, args...)...)
		path := filepath.Join(t.TempDir(), "userdata.sh")
		if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(bin, "--norc", "--severity=style", "--exclude=SC2317", path).CombinedOutput(); err != nil {
			t.Errorf("shellcheck of userdata %v: %v\n%s\nscript:\n%s", args, err, out, script)
		}
		if regexp.MustCompile(`(?m)^\s*set\s+-[a-z]*x`).MatchString(script) {
			t.Errorf("userdata %v traces commands (set -x), which would print the token", args)
		}
	}
}

// fakeIMDS is the instance metadata service with IMDSv2 enforced (a GET without a session token
// gets 401, as on an instance with HttpTokens=required), and the agent package download.
type fakeIMDS struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string
}

func newFakeIMDS(t *testing.T, agentTarball []byte) *fakeIMDS {
	f := &fakeIMDS{}
	const token = "imds-session-token"
	meta := map[string]string{
		"/latest/meta-data/instance-id":      "i-0abc123def4567890",
		"/latest/meta-data/placement/region": "eu-west-1",
	}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.Path)
		f.mu.Unlock()
		switch {
		case r.URL.Path == "/latest/api/token":
			if r.Method != http.MethodPut || r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" {
				http.Error(w, "want PUT with a TTL", http.StatusBadRequest)
				return
			}
			_, _ = w.Write([]byte(token))
		case r.URL.Path == "/agent/vsts-agent.tar.gz":
			_, _ = w.Write(agentTarball)
		case meta[r.URL.Path] != "":
			if r.Header.Get("X-aws-ec2-metadata-token") != token {
				http.Error(w, "", http.StatusUnauthorized)
				return
			}
			_, _ = w.Write([]byte(meta[r.URL.Path]))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeIMDS) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// recordCall is a shell snippet that appends a call record (its name, each argument, its whole
// environment) to $CALLS.
const recordCall = `{ printf '@@call %s\n' "$(basename "$0")"; for a in "$@"; do printf '@@arg %s\n' "$a"; done; env | sed 's/^/@@env /'; } >> "$CALLS"
`

// agentTarball is an agent package whose config.sh and svc.sh record their calls; config.sh
// leaves the .agent file a configured agent has.
func agentTarball(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range map[string]string{
		"config.sh": "#!/bin/sh\n" + recordCall + ": > .agent\n",
		"svc.sh":    "#!/bin/sh\n" + recordCall,
	} {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type call struct {
	name string
	args []string
	env  []string
}

func readCalls(t *testing.T, path string) []call {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var calls []call
	for line := range strings.SplitSeq(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "@@call "):
			calls = append(calls, call{name: strings.TrimPrefix(line, "@@call ")})
		case strings.HasPrefix(line, "@@arg ") && len(calls) > 0:
			c := &calls[len(calls)-1]
			c.args = append(c.args, strings.TrimPrefix(line, "@@arg "))
		case strings.HasPrefix(line, "@@env ") && len(calls) > 0:
			c := &calls[len(calls)-1]
			c.env = append(c.env, strings.TrimPrefix(line, "@@env "))
		}
	}
	return calls
}

// TestUserDataBashRegistersTheInstance runs the Linux script for real: bash, the real curl (through
// a wrapper that records its arguments) against a fake IMDS over loopback, the real tar on the
// agent package the fake serves, and a stub aws CLI that plays SSM. The PAT may reach config.sh
// only through VSTS_AGENT_INPUT_TOKEN: never an argument, never another process's environment,
// never the script's output.
func TestUserDataBashRegistersTheInstance(t *testing.T) {
	t.Setenv("ADO_PAT", "x")
	realCurl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	imds := newFakeIMDS(t, agentTarball(t))
	cfg := writeUserDataConfig(t, imds.URL+"/agent/vsts-agent.tar.gz")
	agentDir := filepath.Join(t.TempDir(), "az agent")
	script := userData(t, "-c", cfg, "--environment", "prod env", "--agent-dir", agentDir)

	dir := t.TempDir()
	stubs := filepath.Join(dir, "bin")
	calls := filepath.Join(dir, "calls.log")
	if err := os.Mkdir(stubs, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		// The PAT is in the stub's text, never in an environment the script passes on.
		"aws":  "#!/bin/sh\n" + recordCall + "echo '" + userDataPAT + "'\n",
		"curl": "#!/bin/sh\n" + recordCall + "exec " + shQuote(realCurl) + " \"$@\"\n",
	} {
		if err := os.WriteFile(filepath.Join(stubs, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	scriptPath := filepath.Join(dir, "userdata.sh")
	if err := os.WriteFile(scriptPath, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	run := func() string {
		cmd := exec.Command("bash", scriptPath)
		cmd.Dir = dir
		cmd.Env = []string{
			"PATH=" + stubs + ":/usr/local/bin:/usr/bin:/bin",
			"HOME=" + dir, "CALLS=" + calls, "ADOFLEET_IMDS_ENDPOINT=" + imds.URL,
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("userdata script: %v\n%s", err, out)
		}
		return string(out)
	}
	out := run()

	got := readCalls(t, calls)
	var names []string
	for _, c := range got {
		names = append(names, c.name)
	}
	// IMDS token, instance id, region, agent download, then SSM, configure, install, start.
	if diff := cmp.Diff([]string{"curl", "curl", "curl", "curl", "aws", "config.sh", "svc.sh", "svc.sh"}, names); diff != "" {
		t.Fatalf("calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"PUT /latest/api/token", "GET /latest/meta-data/instance-id",
		"GET /latest/meta-data/placement/region", "GET /agent/vsts-agent.tar.gz"}, imds.seen()); diff != "" {
		t.Errorf("IMDS and download requests (-want +got):\n%s", diff)
	}
	wantAWS := []string{"ssm", "get-parameter", "--region", "eu-west-1", "--name", "/adofleet/environment-pat",
		"--with-decryption", "--query", "Parameter.Value", "--output", "text"}
	if diff := cmp.Diff(wantAWS, got[4].args); diff != "" {
		t.Errorf("aws arguments (-want +got):\n%s", diff)
	}
	wantConfig := []string{"--unattended", "--acceptteeeula",
		"--environment", "--environmentname", "prod env", "--projectname", `Shop's "web"`,
		"--url", "https://dev.azure.com/contoso", "--auth", "pat", "--agent", "i-0abc123def4567890",
		"--replace", "--work", "_work",
		"--addvirtualmachineresourcetags", "--virtualmachineresourcetags", "web,it's eu,$(touch pwned)"}
	if diff := cmp.Diff(wantConfig, got[5].args); diff != "" {
		t.Errorf("config.sh arguments (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]string{{"install"}, {"start"}}, [][]string{got[6].args, got[7].args}); diff != "" {
		t.Errorf("svc.sh calls (-want +got):\n%s", diff)
	}
	for i, c := range got {
		for _, a := range c.args {
			if strings.Contains(a, userDataPAT) {
				t.Errorf("call %d (%s) has the PAT on its command line", i, c.name)
			}
		}
		var withPAT []string
		for _, e := range c.env {
			if strings.Contains(e, userDataPAT) {
				withPAT = append(withPAT, e)
			}
		}
		var want []string
		if c.name == "config.sh" {
			want = []string{"VSTS_AGENT_INPUT_TOKEN=" + userDataPAT}
		}
		if diff := cmp.Diff(want, withPAT); diff != "" {
			t.Errorf("call %d (%s): environment entries holding the PAT (-want +got):\n%s", i, c.name, diff)
		}
	}
	if !slices.Contains(got[5].env, "AGENT_ALLOW_RUNASROOT=1") {
		t.Error("config.sh ran without AGENT_ALLOW_RUNASROOT=1; the agent refuses to configure as root without it")
	}
	if strings.Contains(out, userDataPAT) {
		t.Errorf("the script printed the PAT:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("a tag was executed by the shell")
	}
	if _, err := os.Stat(filepath.Join(agentDir, "agent.tar.gz")); !os.IsNotExist(err) {
		t.Errorf("the downloaded package was left in the agent directory (stat: %v)", err)
	}

	// A second boot of the same instance finds the agent configured: no token read, no
	// registration, the service started.
	if err := os.Truncate(calls, 0); err != nil {
		t.Fatal(err)
	}
	run()
	names = names[:0]
	for _, c := range readCalls(t, calls) {
		names = append(names, c.name+" "+strings.Join(c.args, " "))
	}
	if diff := cmp.Diff([]string{"curl", "curl", "curl", "svc.sh start"}, trimCurlArgs(names)); diff != "" {
		t.Errorf("second boot calls (-want +got):\n%s", diff)
	}
}

// trimCurlArgs drops curl's arguments, which the first run checks through the fake's requests.
func trimCurlArgs(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		if strings.HasPrefix(n, "curl ") {
			n = "curl"
		}
		out[i] = n
	}
	return out
}

// TestUserDataPowerShellStructure checks the Windows script without PowerShell (no pwsh package is
// installable here): the <powershell> wrapper, IMDSv2, the token only in the environment of
// config.cmd and removed after it, every value single-quoted with quotes doubled, and balanced
// quotes and brackets.
func TestUserDataPowerShellStructure(t *testing.T) {
	t.Setenv("ADO_PAT", "x")
	cfg := writeUserDataConfig(t, "https://example.com/agent.zip")
	script := userData(t, "-c", cfg, "--environment", "prod env", "--os", "windows", "--agent-dir", `D:\agents\it's`)

	if !strings.HasPrefix(script, "<powershell>\n") || !strings.HasSuffix(script, "</powershell>\n") {
		t.Errorf("script is not one <powershell> block:\n%s", script)
	}
	for _, want := range []string{
		`$project = 'Shop''s "web"'`,
		`$environment = 'prod env'`,
		`$tags = 'web,it''s eu,$(touch pwned)'`,
		`$agentDir = 'D:\agents\it''s'`,
		`$tokenParameter = '/adofleet/environment-pat'`,
		`$agentUrl = 'https://example.com/agent.zip'`,
		`-Method Put -Uri "$imds/latest/api/token"`,
		`'X-aws-ec2-metadata-token-ttl-seconds' = '300'`,
		`Get-SSMParameter -Name $tokenParameter -WithDecryption $true -Region $region`,
		`$env:VSTS_AGENT_INPUT_TOKEN = $pat`,
		`Remove-Item Env:VSTS_AGENT_INPUT_TOKEN`,
		`'--agent', $instanceId`,
		`'--environment', '--environmentname', $environment, '--projectname', $project`,
		`'--addvirtualmachineresourcetags', '--virtualmachineresourcetags', $tags`,
		`& (Join-Path $agentDir 'config.cmd') @configArgs`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q", want)
		}
	}
	for _, banned := range []string{"--token", "Start-Transcript", "Set-PSDebug", "Write-Host $pat", "$pat\""} {
		if strings.Contains(script, banned) {
			t.Errorf("script contains %q: the token must reach config.cmd only through its environment and never be logged", banned)
		}
	}
	// The token is set once, right before config.cmd, and removed in a finally block.
	set := strings.Index(script, "$env:VSTS_AGENT_INPUT_TOKEN = $pat")
	cfgCall := strings.Index(script, "config.cmd') @configArgs")
	finally := strings.Index(script, "} finally {")
	remove := strings.Index(script, "Remove-Item Env:VSTS_AGENT_INPUT_TOKEN")
	if set < 0 || !(set < cfgCall && cfgCall < finally && finally < remove) {
		t.Errorf("token set at %d, config.cmd at %d, finally at %d, removal at %d; want that order", set, cfgCall, finally, remove)
	}
	if err := psBalanced(script); err != "" {
		t.Errorf("script is not balanced: %s", err)
	}
}

// psBalanced checks PowerShell quoting and bracket nesting: single-quoted strings (” inside),
// double-quoted strings (` escapes), comments, and (), {}, @( ), @{ }.
func psBalanced(s string) string {
	var stack []rune
	pairs := map[rune]rune{')': '(', '}': '{', ']': '['}
	line := 1
	for i := 0; i < len(s); i++ {
		c := rune(s[i])
		switch c {
		case '\n':
			line++
		case '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			line++
		case '\'':
			for i++; ; i++ {
				if i >= len(s) {
					return "unterminated single-quoted string"
				}
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						i++
						continue
					}
					break
				}
			}
		case '"':
			for i++; ; i++ {
				if i >= len(s) {
					return "unterminated double-quoted string"
				}
				if s[i] == '`' {
					i++
					continue
				}
				if s[i] == '"' {
					break
				}
			}
		case '(', '{', '[':
			stack = append(stack, c)
		case ')', '}', ']':
			if len(stack) == 0 || stack[len(stack)-1] != pairs[c] {
				return "unbalanced " + string(c) + " on line " + strconv.Itoa(line)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 {
		return "unclosed " + string(stack)
	}
	return ""
}

func TestUserDataBase64(t *testing.T) {
	t.Setenv("ADO_PAT", "x")
	cfg := writeUserDataConfig(t, "https://example.com/agent.tar.gz")
	plain := userData(t, "-c", cfg, "--environment", "prod env")
	enc := userData(t, "-c", cfg, "--environment", "prod env", "--base64")
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		t.Fatal(err)
	}
	if string(dec) != plain {
		t.Error("--base64 output does not decode to the plain script")
	}
}

func TestUserDataErrors(t *testing.T) {
	t.Setenv("ADO_PAT", "x")
	cfg := writeUserDataConfig(t, "https://example.com/agent.tar.gz")
	noSection := filepath.Join(t.TempDir(), "plain.yaml")
	if err := os.WriteFile(noSection, []byte(strings.Split(userDataConfig, "vmResources:")[0]), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-c", cfg, "--environment", "qa"}, `--environment "qa": not in vmResources.environments (configured: Shop's "web"/prod env, shop/staging, other/staging, notoken/notoken)`},
		{[]string{"-c", cfg, "--environment", "staging"}, "in several projects; choose one with --project"},
		{[]string{"-c", cfg, "--environment", "notoken"}, "has no tokenParameter"},
		{[]string{"-c", cfg, "--environment", "prod env", "--os", "macos"}, `--os "macos": want linux or windows`},
		{[]string{"-c", noSection, "--environment", "prod env"}, "no vmResources section"},
		{[]string{"-c", cfg}, `required flag(s) "environment" not set`},
	}
	for _, tt := range tests {
		_, _, err := runCLI(context.Background(), append([]string{"userdata"}, tt.args...)...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("userdata %v: error %v, want one containing %q", tt.args, err, tt.want)
		}
	}
}
