// Package pipelines_test checks the files of examples/pipelines: every YAML file parses, the
// adofleet.yaml fragment passes adofleet's validation, and create-service-hook.sh sends the
// subscription the service-hooks REST API expects.
package pipelines_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/secret"
	"github.com/adofleet/adofleet/internal/secret/awssecret"
)

// TestMain registers ssm: and secretsmanager: as the adofleet binary does before loading a config.
func TestMain(m *testing.M) {
	if err := awssecret.Register(secret.Default(), aws.Config{}); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

func TestYAMLFilesParse(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("*.yml")
	more, _ := filepath.Glob("*.yaml")
	inv, _ := filepath.Glob("inventory/*.yml")
	files = append(append(files, more...), inv...)
	if len(files) < 4 {
		t.Fatalf("found %v, want the pipeline, the playbook, the inventory and adofleet.yaml", files)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Errorf("%s: %v", f, err)
		} else if doc == nil {
			t.Errorf("%s is empty", f)
		}
	}
}

func TestPipelineUsesThePool(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("adofleet.yaml")
	if err != nil {
		t.Fatalf("adofleet.yaml does not validate:\n%v", err)
	}
	var pipeline struct {
		Stages []struct {
			Jobs []struct {
				Deployment  string `yaml:"deployment"`
				Environment string `yaml:"environment"`
				Pool        struct {
					Name    string   `yaml:"name"`
					Demands []string `yaml:"demands"`
				} `yaml:"pool"`
			} `yaml:"jobs"`
		} `yaml:"stages"`
	}
	data, err := os.ReadFile("azure-pipelines.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &pipeline); err != nil {
		t.Fatal(err)
	}
	if len(pipeline.Stages) == 0 || len(pipeline.Stages[0].Jobs) == 0 {
		t.Fatal("azure-pipelines.yml has no job")
	}
	job := pipeline.Stages[0].Jobs[0]
	var pool *config.Pool
	for i := range cfg.Pools {
		if cfg.Pools[i].Name == job.Pool.Name {
			pool = &cfg.Pools[i]
		}
	}
	if pool == nil {
		t.Fatalf("the job's pool %q is not one adofleet.yaml scales", job.Pool.Name)
	}
	for _, d := range job.Pool.Demands {
		if _, ok := pool.Capabilities[d]; !ok {
			t.Errorf("the job demands %q, which the pool's agents do not offer: ADO would fail the job", d)
		}
	}
	if job.Deployment == "" || job.Environment == "" {
		t.Errorf("job = %+v, want a deployment job against an Environment", job)
	}
	if cfg.Hooks == nil || !cfg.Hooks.Enabled || cfg.Hooks.Username == "" || cfg.Hooks.Password == "" {
		t.Errorf("hooks = %+v, want the endpoint enabled with basic auth", cfg.Hooks)
	}
}

// TestCreateServiceHookScript runs the script against a stand-in for the two ADO calls it makes.
func TestCreateServiceHookScript(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "jq", "base64"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	const projectID = "6c5b4a39-2817-4f6e-9d0c-1b2a3f4e5d6c"
	var mu sync.Mutex
	var got map[string]any
	var auths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		auths = append(auths, r.Header.Get("Authorization"))
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/contoso/_apis/projects/Platform Ops":
			_ = json.NewEncoder(w).Encode(map[string]any{"id": projectID, "name": "Platform Ops"})
		case r.Method == http.MethodPost && r.URL.Path == "/contoso/_apis/hooks/subscriptions" &&
			r.URL.Query().Get("api-version") == "7.1":
			body, _ := io.ReadAll(r.Body)
			if err := json.Unmarshal(body, &got); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			got["id"] = "fd672255-8b6b-4769-9260-beea83d752ce"
			_ = json.NewEncoder(w).Encode(got)
		default:
			http.Error(w, "unexpected "+r.Method+" "+r.URL.String(), http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)

	cmd := exec.CommandContext(t.Context(), "bash", "create-service-hook.sh")
	cmd.Env = append(os.Environ(),
		"ADO_ORG_URL="+srv.URL+"/contoso/", "ADO_PROJECT=Platform Ops", "ADO_PAT=pat-123",
		"ADOFLEET_URL=https://adofleet.example/", "HOOKS_USERNAME=ado-hooks", "HOOKS_PASSWORD=hook-pass",
		"PIPELINE_ID=17")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("create-service-hook.sh: %v\n%s", err, out)
	}
	want := map[string]any{
		"id":               "fd672255-8b6b-4769-9260-beea83d752ce",
		"publisherId":      "pipelines",
		"eventType":        "ms.vss-pipelines.run-state-changed-event",
		"resourceVersion":  "5.1-preview.1",
		"consumerId":       "webHooks",
		"consumerActionId": "httpRequest",
		"publisherInputs":  map[string]any{"projectId": projectID, "runStateId": "Completed", "pipelineId": "17"},
		"consumerInputs": map[string]any{
			"url": "https://adofleet.example/v1/hooks/ado", "basicAuthUsername": "ado-hooks", "basicAuthPassword": "hook-pass",
			"resourceDetailsToSend": "all", "messagesToSend": "none", "detailedMessagesToSend": "none",
		},
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("subscription (-want +got):\n%s", diff)
	}
	for _, a := range auths {
		if a != "Basic OnBhdC0xMjM=" { // ":pat-123"
			t.Errorf("Authorization = %q, want basic auth with the PAT", a)
		}
	}
	if strings.Contains(string(out), "hook-pass") || strings.Contains(string(out), "pat-123") {
		t.Errorf("the script printed a secret:\n%s", out)
	}
}

// TestInventoryFromEnvironment runs the script against a stand-in for the Environment calls.
func TestInventoryFromEnvironment(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer job-token" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/contoso/Platform/_apis/distributedtask/environments":
			_, _ = io.WriteString(w, `{"count":2,"value":[{"id":3,"name":"production-eu"},{"id":7,"name":"production"}]}`)
		case "/contoso/Platform/_apis/distributedtask/environments/7/providers/virtualmachines":
			_, _ = io.WriteString(w, `{"count":3,"value":[
				{"id":11,"name":"ip-10-0-1-5.eu-west-1.compute.internal","tags":["web","eu-west-1"]},
				{"id":12,"name":"ip-10-0-2-9.eu-west-1.compute.internal","tags":["web"]},
				{"id":13,"name":"ip-10-0-3-4.eu-west-1.compute.internal"}]}`)
		default:
			http.Error(w, "unexpected "+r.URL.String(), http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	cmd := exec.CommandContext(t.Context(), "bash", "inventory-from-environment.sh")
	cmd.Env = append(os.Environ(), "SYSTEM_ACCESSTOKEN=job-token", "ENVIRONMENT_NAME=production",
		"SYSTEM_COLLECTIONURI="+srv.URL+"/contoso/", "SYSTEM_TEAMPROJECT=Platform")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("inventory-from-environment.sh: %v\n%s", err, stderr.String())
	}
	want := `[all]
ip-10-0-1-5.eu-west-1.compute.internal
ip-10-0-2-9.eu-west-1.compute.internal
ip-10-0-3-4.eu-west-1.compute.internal

[eu_west_1]
ip-10-0-1-5.eu-west-1.compute.internal

[web]
ip-10-0-1-5.eu-west-1.compute.internal
ip-10-0-2-9.eu-west-1.compute.internal
`
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("inventory (-want +got):\n%s", diff)
	}
}
