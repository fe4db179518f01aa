package main

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/cloudwatch/cwfake"
	"github.com/adofleet/adofleet/internal/provider/ecs/ecsfake"
	"github.com/adofleet/adofleet/internal/secret/awssecret/awsfake"
)

const awsTokenParam = "arn:aws:ssm:eu-west-1:123456789012:parameter/adofleet/ado-pat"

// awsTestEnv points the AWS SDK's default chain at static credentials and nothing else: no
// shared files, no instance metadata.
func awsTestEnv(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIDSERVETEST",
		"AWS_SECRET_ACCESS_KEY":       "serve-test-secret-key",
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_REGION":                  "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ENDPOINT_URL":            "",
	} {
		t.Setenv(k, v)
	}
}

// TestServeScalesAnECSPool runs `adofleet serve -c FILE` with an ECS pool: the PAT comes from SSM
// (the SSM fake, reached through AWS_ENDPOINT_URL_SSM), tasks from the ECS fake (providers.ecs.endpoint)
// and each task runs a simulated agent against the ADO simulator, given AZP_TOKEN as ECS would
// inject the task definition's secret. Every queued job must run once, the pool must empty, and
// CloudWatch must receive the pool's gauges.
func TestServeScalesAnECSPool(t *testing.T) {
	const pat = "serve-ecs-pat-0123456789abcdef"
	awsTestEnv(t)

	h := newSimHarness(t, "fargate", adosim.ServerOptions{PAT: pat, MessagePollTimeout: 200 * time.Millisecond})
	org := h.org

	ssm := awsfake.New(t)
	ssm.PutParameter("/adofleet/ado-pat", awsfake.Parameter{Type: "SecureString", Value: pat})
	t.Setenv("AWS_ENDPOINT_URL_SSM", ssm.URL)
	cw := cwfake.New(t)

	fake := ecsfake.New(ecsfake.Options{Region: "eu-west-1", Clusters: []string{"agents"}})
	defer fake.Close()
	fake.RegisterTaskDefinition("ado-agent", ecsfake.Container{Name: "agent", Secrets: map[string]string{"AZP_TOKEN": awsTokenParam}})
	agents := runSimAgents(t, fake, pat)
	defer agents.stopAll()

	cfgPath := h.writeConfig(t, `organization:
  url: {sim}
  pat: ssm:/adofleet/ado-pat
controller:
  id: serve-ecs
  resync: 300ms
  logLevel: warn
store:
  sqlite:
    path: {state}
web:
  listen: "off"
aws:
  region: eu-west-1
providers:
  ecs:
    cluster: agents
    taskDefinition: ado-agent
    subnets: [subnet-0123456789abcdef0]
    capacityProviderStrategy:
      - {provider: FARGATE_SPOT, weight: 4}
      - {provider: FARGATE, weight: 1, base: 1}
    secrets:
      - {name: AZP_TOKEN, valueFrom: {token}}
    callTimeout: 5s
    endpoint: {ecs}
cloudwatch:
  enabled: true
  namespace: adofleet-test
  interval: 1s
  endpoint: {cw}
pools:
  - name: fargate
    provider: ecs
    max: 3
    idleTimeout: 1s
    registrationTimeout: 1m
    resources: {cpu: 1 vCPU, memory: 2 GB}
`, "{token}", awsTokenParam, "{ecs}", fake.URL, "{cw}", cw.URL)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := startServe(t, ctx, cfgPath)

	const jobs = 6
	run.queueAfterPlaceholder(t, ctx, org, "fargate", jobs, adosim.JobSpec{Duration: 50 * time.Millisecond})
	run.waitFor(t, ctx, "every job finished, every task stopped, the pool back to its placeholder", func() bool {
		if !allJobsFinished(org) {
			return false
		}
		for _, task := range fake.Tasks() {
			if task.LastStatus != ecsfake.StatusStopped {
				return false
			}
		}
		return len(org.Agents("fargate")) == 1
	})
	run.waitFor(t, ctx, "CloudWatch gauges for the pool", func() bool { return publishedFor(cw, "adofleet-test", "fargate") })
	stderr := run.shutdown(t)

	checkJobsSucceededOnce(t, org, jobs)
	tasks := fake.Tasks()
	if len(tasks) < 1 {
		t.Fatal("no ECS task was started")
	}
	for _, task := range tasks {
		if task.Tags["adofleet:pool"] != "fargate" || task.Tags["adofleet:controller"] != "serve-ecs" || task.StartedBy == "" {
			t.Errorf("task %s: tags %v, startedBy %q; want the pool and controller tags and a startedBy", task.ARN, task.Tags, task.StartedBy)
		}
		if task.CPU != "1 vCPU" || task.Memory != "2 GB" {
			t.Errorf("task %s: cpu %q memory %q; want the pool's resources, 1 vCPU and 2 GB", task.ARN, task.CPU, task.Memory)
		}
	}
	if len(ssm.Calls()) == 0 {
		t.Error("the PAT was not read from SSM")
	}
	if strings.Contains(stderr, pat) {
		t.Error("serve logged the PAT")
	}
}

// simAgents runs one simulated agent per ECS task and stops the task when its agent exits, as a
// --once agent's container would.
type simAgents struct {
	mu      sync.Mutex
	cancels map[string]context.CancelFunc
	wg      sync.WaitGroup
}

func runSimAgents(t *testing.T, fake *ecsfake.Fake, token string) *simAgents {
	a := &simAgents{cancels: map[string]context.CancelFunc{}}
	fake.OnRunTask = func(task ecsfake.Task) {
		env := task.Env["agent"]
		if _, leaked := env["AZP_TOKEN"]; leaked {
			t.Errorf("task %s got the token as a plain variable", task.ARN)
		}
		opts, err := adosim.AgentOptionsFromEnv(func(k string) string {
			if k == "AZP_TOKEN" {
				return token // what ECS injects from the task definition's secret
			}
			return env[k]
		})
		if err != nil {
			t.Errorf("task %s: %v", task.ARN, err)
			return
		}
		opts.PollTimeout = time.Second
		ctx, cancel := context.WithCancel(context.Background())
		a.mu.Lock()
		a.cancels[task.ARN] = cancel
		a.mu.Unlock()
		a.wg.Go(func() {
			code, reason := 0, ""
			if err := adosim.RunAgent(ctx, opts); err != nil {
				code, reason = 1, err.Error()
			}
			_ = fake.StopOnItsOwn(task.ARN, "EssentialContainerExited", "Essential container in task exited", reason, &code)
		})
	}
	fake.OnStopTask = func(task ecsfake.Task) {
		a.mu.Lock()
		cancel := a.cancels[task.ARN]
		a.mu.Unlock()
		if cancel != nil {
			cancel()
		}
	}
	return a
}

func (a *simAgents) stopAll() {
	a.mu.Lock()
	for _, c := range a.cancels {
		c()
	}
	a.mu.Unlock()
	a.wg.Wait()
}

func publishedFor(cw *cwfake.Server, namespace, pool string) bool {
	for _, c := range cw.Calls() {
		for _, d := range c.Data {
			if c.Namespace == namespace && d.Dimensions["Pool"] == pool {
				return true
			}
		}
	}
	return false
}
