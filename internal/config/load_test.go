package config_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/config"
)

func ptr[T any](v T) *T { return &v }

const minimal = `
organization:
  url: https://dev.azure.com/contoso
  pat: env:ADO_PAT
providers:
  local:
    command: [./agent.sh, --flag]
pools:
  - name: linux
    provider: local
    max: 3
`

func TestParseAppliesDefaults(t *testing.T) {
	t.Parallel()
	got, err := config.Parse("adofleet.yaml", []byte(minimal))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &config.Config{
		Organization: config.Organization{
			URL:       "https://dev.azure.com/contoso",
			PAT:       "env:ADO_PAT",
			Timeout:   config.Duration(30 * time.Second),
			SecretTTL: config.Duration(5 * time.Minute),
		},
		Controller: config.Controller{ID: "adofleet", Resync: config.Duration(30 * time.Second), MaxConcurrentCycles: 16, LogLevel: "info"},
		Store: config.Store{SQLite: &config.SQLiteStore{Path: "./adofleet.db"}, Housekeeping: config.Housekeeping{
			Interval: config.Duration(time.Hour), DecisionsPerPool: 10_000, CheckRetention: config.Duration(840 * time.Hour)}},
		Web:       config.Web{Listen: "127.0.0.1:8080"},
		Providers: config.Providers{Local: &config.LocalProvider{Command: []string{"./agent.sh", "--flag"}}},
		Pools: []config.Pool{{
			Name:                "linux",
			Provider:            "local",
			Max:                 3,
			IdleTimeout:         config.Duration(5 * time.Minute),
			RegistrationTimeout: config.Duration(10 * time.Minute),
			OneJobPerAgent:      ptr(true),
		}},
		CloudWatch: config.CloudWatch{Namespace: "adofleet", Interval: config.Duration(time.Minute)},
		Checks:     config.Checks{SecretHeader: "X-Adofleet-Secret", Timeout: config.Duration(10 * time.Minute), MaxBodyBytes: 65536},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config mismatch (-want +got):\n%s", diff)
	}
	if !got.Pools[0].OneJob() || !got.Web.Enabled() {
		t.Errorf("OneJob() = %v, Web.Enabled() = %v; want true, true", got.Pools[0].OneJob(), got.Web.Enabled())
	}
	if got, want := got.Organization.AgentTokenRef(), "env:ADO_PAT"; got != want {
		t.Errorf("AgentTokenRef() = %q, want %q", got, want)
	}
}

func TestParseExplicitValues(t *testing.T) {
	t.Parallel()
	data := `
organization:
  url: http://127.0.0.1:7070/sim   # http is fine on loopback (the simulator)
  bearerToken: file:/run/secrets/bearer
  agentToken: env:AGENT_PAT
  timeout: 1m30s
controller: {id: ci.farm-2, resync: 10s, logLevel: debug, maxConcurrentCycles: 4}
store: {sqlite: {path: /var/lib/adofleet/state.db}}
web: {listen: "off"}
providers:
  local:
    command: [/bin/agent]
    workDir: /srv/agents
    env: {DEBUG: 1, EMPTY: ""}
pools:
  - name: a
    provider: local
    template: big
    min: 1
    max: 5
    standby: 2
    maxLaunchPerCycle: 3
    idleTimeout: 90s
    registrationTimeout: 2m
    oneJobPerAgent: false
    capabilities: {Agent.OS: Linux, docker: "true"}
    env: {X: y}
  - {name: b, provider: local, max: 1}
`
	got, err := config.Parse("x.yaml", []byte(data))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	a := got.Pools[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"url", got.Organization.URL, "http://127.0.0.1:7070/sim"},
		{"agent token", got.Organization.AgentTokenRef(), "env:AGENT_PAT"},
		{"timeout", got.Organization.Timeout.D(), 90 * time.Second},
		{"controller", got.Controller, config.Controller{ID: "ci.farm-2", Resync: config.Duration(10 * time.Second), MaxConcurrentCycles: 4, LogLevel: "debug"}},
		{"store", got.Store.SQLite.Path, "/var/lib/adofleet/state.db"},
		{"web enabled", got.Web.Enabled(), false},
		{"local", *got.Providers.Local, config.LocalProvider{Command: []string{"/bin/agent"}, WorkDir: "/srv/agents", Env: map[string]string{"DEBUG": "1", "EMPTY": ""}}},
		{"sizes", []int{a.Min, a.Max, a.Standby, a.MaxLaunchPerCycle}, []int{1, 5, 2, 3}},
		{"template", a.Template, "big"},
		{"timeouts", []time.Duration{a.IdleTimeout.D(), a.RegistrationTimeout.D()}, []time.Duration{90 * time.Second, 2 * time.Minute}},
		{"one job", a.OneJob(), false},
		{"capabilities", a.Capabilities, map[string]string{"Agent.OS": "Linux", "docker": "true"}},
		{"env", a.Env, map[string]string{"X": "y"}},
		{"second pool defaults", got.Pools[1].IdleTimeout.D(), 5 * time.Minute},
	}
	for _, c := range checks {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", c.name, diff)
		}
	}
}

func TestLoopbackHTTPOnly(t *testing.T) {
	t.Parallel()
	for url, ok := range map[string]bool{
		"http://localhost:8081/org":            true,
		"http://127.0.0.2/org":                 true,
		"http://[::1]:9000/org":                true,
		"https://dev.azure.com/contoso":        true,
		"https://contoso.visualstudio.com?x=1": false,
		"http://10.0.0.5/org":                  false,
		"http://localhost.evil.com/org":        false,
		"ftp://dev.azure.com/contoso":          false,
	} {
		data := strings.Replace(minimal, "https://dev.azure.com/contoso", url, 1)
		_, err := config.Parse("a.yaml", []byte(data))
		if (err == nil) != ok {
			t.Errorf("url %s: error = %v, want ok=%v", url, err, ok)
		}
	}
}

func TestErrorsCarryPositionAndNeverTheSecret(t *testing.T) {
	t.Parallel()
	const literal = "q7xk2mzp4vd9wr3fn8ht6yc5jaq7xk2mzp4vd9wr3fn8ht6yc5ja"
	data := strings.Replace(minimal, "env:ADO_PAT", literal, 1) +
		"    maxx: 1\n" +
		"    bearerToken: " + literal + "\n"
	_, err := config.Parse("adofleet.yaml", []byte(data))
	var errs *config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse error = %v, want *config.Errors", err)
	}
	want := []config.Error{
		{File: "adofleet.yaml", Line: 4, Column: 8, Field: "organization.pat",
			Message: "looks like a literal secret (not shown); keep it in an environment variable, a file, SSM Parameter Store or Secrets Manager and write env:NAME, file:PATH, ssm:/NAME or secretsmanager:NAME, e.g. env:ADO_PAT"},
		{File: "adofleet.yaml", Line: 12, Column: 5, Field: "pools[0].maxx", Message: "unknown field; did you mean max?"},
		{File: "adofleet.yaml", Line: 13, Column: 5, Field: "pools[0].bearerToken", Message: "unknown field; known fields: " +
			"name, provider, template, min, max, standby, maxLaunchPerCycle, idleTimeout, registrationTimeout, oneJobPerAgent, capabilities, env, resources, costPerHour"},
	}
	if diff := cmp.Diff(want, errs.List); diff != "" {
		t.Errorf("errors mismatch (-want +got):\n%s", diff)
	}
	if strings.Contains(err.Error(), literal) {
		t.Errorf("error echoes the secret:\n%v", err)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "adofleet.yaml")
	if err := os.WriteFile(path, []byte(minimal+"    maxx: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load(path)
	if got, want := err.Error(), path+":12: pools[0].maxx: unknown field; did you mean max?"; got != want {
		t.Errorf("Load error = %q, want %q", got, want)
	}
	_, err = config.Load(filepath.Join(dir, "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
}

func TestValidateConfigBuiltInCode(t *testing.T) {
	t.Parallel()
	c := &config.Config{
		Organization: config.Organization{URL: "http://127.0.0.1:1/org", PAT: "env:X"},
		Providers:    config.Providers{Local: &config.LocalProvider{Command: []string{"agent"}}},
		Pools:        []config.Pool{{Name: "p", Provider: "local", Max: 2, IdleTimeout: config.Duration(-time.Second)}},
	}
	c.SetDefaults()
	err := c.Validate()
	if got, want := err.Error(), `pools[0].idleTimeout: must be a positive duration, got "-1s"`; got != want {
		t.Errorf("Validate() = %q, want %q", got, want)
	}
	c.Pools[0].IdleTimeout = 0
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() after fixing = %v, want nil", err)
	}
}

func TestDurationText(t *testing.T) {
	t.Parallel()
	d := config.Duration(90 * time.Second)
	b, _ := d.MarshalText()
	if got, want := string(b), "1m30s"; got != want {
		t.Errorf("MarshalText = %q, want %q", got, want)
	}
	var back config.Duration
	if err := back.UnmarshalText(b); err != nil || back != d {
		t.Errorf("UnmarshalText(%q) = %v, %v; want %v", b, back, err, d)
	}
	if err := back.UnmarshalText([]byte("5 minutes")); err == nil || !strings.Contains(err.Error(), `"5 minutes"`) {
		t.Errorf("UnmarshalText(5 minutes) = %v, want an error naming the value", err)
	}
}
