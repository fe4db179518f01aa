package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/provider/ec2/ec2fake"
)

// TestServeScalesAnEC2Pool runs `adofleet serve -c FILE` with an EC2 pool in instances mode:
// instances come from the EC2 fake (providers.ec2.endpoint) and each runs a simulated agent
// against the ADO simulator, configured from the instance's user data (its exported variables)
// and its adofleet:agent tag, with the token the instance would read from tokenParameter. When
// the agent's one job is done the instance shuts itself down (and terminates, as the provider
// asks). Every queued job must run once, every instance must end, and only the placeholder agent
// may remain.
func TestServeScalesAnEC2Pool(t *testing.T) {
	const pat = "serve-ec2-pat-0123456789abcdef"
	awsTestEnv(t)
	t.Setenv("ADOFLEET_TEST_EC2_PAT", pat)

	h := newSimHarness(t, "vms", adosim.ServerOptions{PAT: pat, MessagePollTimeout: 200 * time.Millisecond})
	org := h.org

	fake := ec2fake.New(t, nil)
	vms := runEC2Agents(t, fake, pat)
	defer vms.stopAll()

	cfgPath := h.writeConfig(t, `organization:
  url: {sim}
  pat: env:ADOFLEET_TEST_EC2_PAT
controller:
  id: serve-ec2
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
  ec2:
    mode: instances
    launchTemplate:
      id: lt-0123456789abcdef0
      version: $Latest
    instanceTypes: [m7i.large, m6i.large]
    subnets: [subnet-0123456789abcdef0]
    spot: true
    tokenParameter: /adofleet/agent-pat
    endpoint: {ec2}
pools:
  - name: vms
    provider: ec2
    max: 3
    idleTimeout: 1s
    registrationTimeout: 1m
    env:
      BUILD_FLAVOUR: ec2
`, "{ec2}", fake.URL)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := startServe(t, ctx, cfgPath)

	const jobs = 5
	run.queueAfterPlaceholder(t, ctx, org, "vms", jobs, adosim.JobSpec{Duration: 50 * time.Millisecond})
	run.waitFor(t, ctx, "every job finished, every instance ended, the pool back to its placeholder", func() bool {
		if !allJobsFinished(org) {
			return false
		}
		for _, in := range fake.Instances() {
			if !ec2Ended(in.State) {
				return false
			}
		}
		return len(org.Agents("vms")) == 1
	})
	stderr := run.shutdown(t)

	checkJobsSucceededOnce(t, org, jobs)
	instances := fake.Instances()
	if len(instances) == 0 {
		t.Fatal("no EC2 instance was started")
	}
	for _, in := range instances {
		if !ec2Ended(in.State) {
			t.Errorf("instance %s is %s at the end, want terminated or shut down", in.ID, in.State)
		}
		if in.Tags["adofleet:pool"] != "vms" || in.Tags["adofleet:controller"] != "serve-ec2" || in.Tags["adofleet:agent"] == "" {
			t.Errorf("instance %s: tags %v; want the pool, controller and agent tags", in.ID, in.Tags)
		}
		if in.LaunchTemplateID != "lt-0123456789abcdef0" || in.ShutdownBehavior != "terminate" || !in.Spot {
			t.Errorf("instance %s: template %q, shutdown %q, spot %v; want the configured template, terminate on shutdown, spot",
				in.ID, in.LaunchTemplateID, in.ShutdownBehavior, in.Spot)
		}
	}
	if got := vms.started(); got != len(instances) {
		t.Errorf("simulated agents started = %d, want one per instance (%d)", got, len(instances))
	}
	instanceAgents := map[string]bool{}
	for _, in := range instances {
		instanceAgents[in.Tags["adofleet:agent"]] = true
	}
	for _, ag := range org.Agents("vms") {
		if ag.Online || ag.JobsRun != 0 || instanceAgents[ag.Name] {
			t.Errorf("agent %q left (online %v, %d jobs run); want only the offline placeholder", ag.Name, ag.Online, ag.JobsRun)
		}
	}
	if strings.Contains(stderr, pat) {
		t.Error("serve logged the PAT")
	}
}

// ec2Ended reports whether an instance state no longer runs an agent.
func ec2Ended(state string) bool {
	switch state {
	case "terminated", "shutting-down", "stopped":
		return true
	}
	return false
}

// ec2Agents plays the instances' operating system: each instance EC2 starts runs the agent its
// user data describes, then shuts down when the agent exits (terminating, as instances with
// shutdown behaviour "terminate" do); a terminated instance's agent is stopped.
type ec2Agents struct {
	mu      sync.Mutex
	cancels map[string]context.CancelFunc
	n       int
	wg      sync.WaitGroup
}

func runEC2Agents(t *testing.T, fake *ec2fake.Server, token string) *ec2Agents {
	a := &ec2Agents{cancels: map[string]context.CancelFunc{}}
	fake.SetHooks(ec2fake.Hooks{
		OnRunInstances: func(in ec2fake.Instance) {
			env, err := userDataEnv(in.UserData)
			if err != nil {
				t.Errorf("instance %s: %v", in.ID, err)
				return
			}
			if _, leaked := env["AZP_TOKEN"]; leaked {
				t.Errorf("instance %s: the token is in the user data; with tokenParameter it must be read on the instance", in.ID)
			}
			name := in.Tags["adofleet:agent"]
			if name == "" || env["AZP_AGENT_NAME"] != name {
				t.Errorf("instance %s: agent tag %q, user data AZP_AGENT_NAME %q; want the same name", in.ID, name, env["AZP_AGENT_NAME"])
			}
			if got := env["BUILD_FLAVOUR"]; got != "ec2" {
				t.Errorf("instance %s: pool env BUILD_FLAVOUR = %q in the user data, want ec2", in.ID, got)
			}
			opts, err := ec2AgentOptions(env, name, token)
			if err != nil {
				t.Errorf("instance %s: %v", in.ID, err)
				return
			}
			ctx, cancel := context.WithCancel(context.Background())
			a.mu.Lock()
			a.cancels[in.ID] = cancel
			a.n++
			a.mu.Unlock()
			a.wg.Go(func() {
				_ = adosim.RunAgent(ctx, opts)
				if ctx.Err() == nil { // the agent finished on its own: the user data powers off
					ec2PowerOff(fake, in.ID)
				}
			})
		},
		OnTerminate: func(in ec2fake.Instance) {
			a.mu.Lock()
			cancel := a.cancels[in.ID]
			a.mu.Unlock()
			if cancel != nil {
				cancel()
			}
		},
	})
	return a
}

func (a *ec2Agents) started() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

func (a *ec2Agents) stopAll() {
	a.mu.Lock()
	for _, c := range a.cancels {
		c()
	}
	a.mu.Unlock()
	a.wg.Wait()
}

// ec2AgentOptions are the options of the agent an instance's user data starts: env is what the
// user data exports, name the instance's agent tag, token what it reads from the tokenParameter.
func ec2AgentOptions(env map[string]string, name, token string) (adosim.AgentOptions, error) {
	opts, err := adosim.AgentOptionsFromEnv(func(k string) string {
		switch k {
		case "AZP_TOKEN":
			return token
		case "AZP_AGENT_NAME":
			return name
		}
		return env[k]
	})
	opts.PollTimeout = time.Second
	return opts, err
}

// ec2PowerOff ends an instance as its user data does once the agent exits: the instance shuts
// down, which terminates it.
func ec2PowerOff(fake *ec2fake.Server, id string) {
	fake.SetState(id, "terminated", "Client.InstanceInitiatedShutdown",
		"Client.InstanceInitiatedShutdown: Instance initiated shutdown")
}

// userDataEnv decodes base64 user data and returns the variables its `export NAME='value'` lines
// set, undoing the provider's single quoting ('\” for a quote).
func userDataEnv(b64 string) (map[string]string, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("user data is not base64: %w", err)
	}
	env := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		name, quoted, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		if !ok || !strings.HasPrefix(sc.Text(), "export ") || !strings.HasPrefix(quoted, "'") {
			continue
		}
		var v strings.Builder
		for quoted != "" {
			switch {
			case strings.HasPrefix(quoted, `\'`):
				v.WriteByte('\'')
				quoted = quoted[2:]
			case strings.HasPrefix(quoted, "'"):
				end := strings.IndexByte(quoted[1:], '\'')
				if end < 0 {
					return nil, fmt.Errorf("user data: unterminated quote in the export of %s", name)
				}
				v.WriteString(quoted[1 : 1+end])
				quoted = quoted[end+2:]
			default:
				return nil, fmt.Errorf("user data: unquoted text in the export of %s", name)
			}
		}
		env[name] = v.String()
	}
	return env, sc.Err()
}
