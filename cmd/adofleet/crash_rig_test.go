//go:build unix

package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/crashpoint"
	"github.com/adofleet/adofleet/internal/provider/ec2/ec2fake"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

const (
	crashPool = "vms"
	crashPAT  = "crash-test-pat-0123456789abcdef"
	// crashWait bounds a graceful stop, and three of it a whole scenario: generous, since two
	// cores may be running several scenarios, each with its controller, simulator and agents.
	crashWait = 45 * time.Second
)

// crashRig is one scenario's world that outlives the controller: the ADO simulator, the EC2 fake
// with its simulated machines, and the SQLite file. The controller runs as a child process (the
// binary built with -tags crashpoints) that the rig starts, kills and restarts.
type crashRig struct {
	t    *testing.T
	bin  string
	h    *simHarness
	org  *adosim.Org
	ec2  *ec2fake.Server
	vms  *crashVMs
	env  []string
	runs []*crashChild
}

func newCrashRig(t *testing.T, bin string) *crashRig {
	t.Helper()
	h := newSimHarness(t, crashPool, adosim.ServerOptions{PAT: crashPAT, MessagePollTimeout: 200 * time.Millisecond})
	fake := ec2fake.New(t, nil)
	r := &crashRig{t: t, bin: bin, h: h, org: h.org, ec2: fake}
	r.vms = newCrashVMs(t, fake, h.org, crashPool, crashPAT)
	r.env = crashChildEnv(h.dir)
	t.Cleanup(func() {
		for _, c := range r.runs {
			c.kill()
			if t.Failed() {
				t.Logf("--- %s: stderr (tail):\n%s", c.label, tail(c.stderr.String(), 6000))
			}
		}
	})
	return r
}

// crashChildEnv is the child's environment: this process's, minus any AWS or adofleet settings,
// plus static AWS credentials that reach nothing but the fake and the PAT serve reads.
func crashChildEnv(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "ADOFLEET_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"AWS_ACCESS_KEY_ID=AKIDCRASHTEST",
		"AWS_SECRET_ACCESS_KEY=crash-test-secret-key",
		"AWS_CONFIG_FILE="+filepath.Join(dir, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"ADOFLEET_CRASH_PAT="+crashPAT,
	)
}

// crashPoolOpts are the pool settings a scenario varies.
type crashPoolOpts struct {
	max          int
	idleTimeout  string
	registration string
	oneJob       bool
}

// writeConfig (re)writes the config the next serve starts with.
func (r *crashRig) writeConfig(o crashPoolOpts) {
	r.t.Helper()
	r.h.writeConfig(r.t, `organization:
  url: {sim}
  pat: env:ADOFLEET_CRASH_PAT
controller:
  id: crash
  resync: 100ms
  logLevel: info
store:
  sqlite:
    path: {state}
web:
  listen: 127.0.0.1:0
aws:
  region: eu-west-1
providers:
  ec2:
    mode: instances
    launchTemplate:
      id: lt-0123456789abcdef0
      version: $Latest
    subnets: [subnet-0123456789abcdef0]
    tokenParameter: /adofleet/agent-pat
    endpoint: {ec2}
pools:
  - name: vms
    provider: ec2
    max: {max}
    idleTimeout: {idle}
    registrationTimeout: {reg}
    oneJobPerAgent: {once}
`, "{ec2}", r.ec2.URL, "{max}", strconv.Itoa(o.max), "{idle}", o.idleTimeout,
		"{reg}", o.registration, "{once}", strconv.FormatBool(o.oneJob))
}

// crashChild is one `adofleet serve` process.
type crashChild struct {
	label  string
	cmd    *exec.Cmd
	stderr syncBuffer
	done   chan struct{} // closed once the process has been waited for
	state  *os.ProcessState
}

// start runs serve; crashAt ("" for none) is the crashpoint it is to die at.
func (r *crashRig) start(crashAt string) *crashChild {
	r.t.Helper()
	label := fmt.Sprintf("serve #%d", len(r.runs)+1)
	if crashAt != "" {
		label += " (crash at " + crashAt + ")"
	}
	c := &crashChild{label: label, done: make(chan struct{})}
	c.cmd = exec.Command(r.bin, "serve", "-c", filepath.Join(r.h.dir, "adofleet.yaml"))
	c.cmd.Env = r.env
	if crashAt != "" {
		c.cmd.Env = append(append([]string(nil), r.env...), crashpoint.EnvVar+"="+crashAt)
	}
	c.cmd.Stdout = &c.stderr
	c.cmd.Stderr = &c.stderr
	if err := c.cmd.Start(); err != nil {
		r.t.Fatalf("%s: %v", label, err)
	}
	r.runs = append(r.runs, c)
	go func() {
		_ = c.cmd.Wait() // the outcome is read from ProcessState
		c.state = c.cmd.ProcessState
		close(c.done)
	}()
	return c
}

func (c *crashChild) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL (if it still runs) and waits for the process to be gone.
func (c *crashChild) kill() {
	if !c.exited() {
		_ = c.cmd.Process.Kill() // fails only if it has just exited
	}
	<-c.done
}

func (c *crashChild) killedBySIGKILL() bool {
	ws, ok := c.state.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// expectCrash waits for c to die at crashAt: killed by SIGKILL, having said where.
func (r *crashRig) expectCrash(ctx context.Context, c *crashChild, crashAt string) {
	r.t.Helper()
	select {
	case <-c.done:
	case <-ctx.Done():
		r.t.Fatalf("%s: still running; the crashpoint was never reached", c.label)
	}
	name, nth, _ := strings.Cut(crashAt, ":")
	if nth == "" {
		nth = "1"
	}
	marker := fmt.Sprintf("adofleet crashpoint: %s hit %s: SIGKILL", name, nth)
	if !c.killedBySIGKILL() || !strings.Contains(c.stderr.String(), marker) {
		r.t.Fatalf("%s ended with %v; want it killed by SIGKILL after logging %q", c.label, c.state, marker)
	}
}

// stop ends c gracefully (SIGTERM) and fails the test unless it exits cleanly.
func (r *crashRig) stop(c *crashChild) {
	r.t.Helper()
	if !c.exited() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-c.done:
	case <-time.After(crashWait):
		r.t.Fatalf("%s: did not stop on SIGTERM", c.label)
	}
	if !c.state.Success() {
		r.t.Fatalf("%s: exited with %v after SIGTERM, want status 0", c.label, c.state)
	}
}

// waitFor polls cond until it holds, failing the test if ctx ends or c exits first.
func (r *crashRig) waitFor(ctx context.Context, c *crashChild, what string, cond func() bool) {
	r.t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			r.t.Fatalf("gave up waiting for %s", what)
		case <-c.done:
			r.t.Fatalf("%s exited (%v) while waiting for %s", c.label, c.state, what)
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// waitLogged waits until c has logged text.
func (r *crashRig) waitLogged(ctx context.Context, c *crashChild, text string) {
	r.t.Helper()
	r.waitFor(ctx, c, fmt.Sprintf("%s to log %q", c.label, text), func() bool {
		return strings.Contains(c.stderr.String(), text)
	})
}

// ready reports whether c's /readyz answers 200: it has started, and its latest reconcile of
// every pool ran without an error.
func (c *crashChild) ready(ctx context.Context) bool {
	m := dashboardLine.FindStringSubmatch(c.stderr.String())
	if m == nil {
		return false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m[1]+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// waitPlaceholder waits for the pool's placeholder: ADO fails jobs queued on a pool with no agents.
func (r *crashRig) waitPlaceholder(ctx context.Context, c *crashChild) {
	r.t.Helper()
	r.waitFor(ctx, c, "the placeholder agent", func() bool {
		for _, a := range r.org.Agents(crashPool) {
			if a.Name == controller.PlaceholderName(crashPool) {
				return true
			}
		}
		return false
	})
}

// queue adds n jobs to the pool.
func (r *crashRig) queue(n int) {
	r.t.Helper()
	for range n {
		if _, err := r.org.QueueJob(crashPool, adosim.JobSpec{Duration: 200 * time.Millisecond}); err != nil {
			r.t.Fatal(err)
		}
	}
}

// openStore opens the SQLite file the controllers share, for reading what they recorded.
func (r *crashRig) openStore(ctx context.Context) *sqlite.Store {
	r.t.Helper()
	st, err := sqlite.Open(ctx, filepath.Join(r.h.dir, "state.db"), sqlite.Options{})
	if err != nil {
		r.t.Fatalf("open the controllers' store: %v", err)
	}
	r.t.Cleanup(func() { _ = st.Close() })
	return st
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// errChildExited reports a child that ended when it should still run.
var errChildExited = errors.New("serve exited")

// sleepOrExit waits d, returning errChildExited early if c exits meanwhile.
func sleepOrExit(c *crashChild, d time.Duration) error {
	select {
	case <-c.done:
		return errChildExited
	case <-time.After(d):
		return nil
	}
}
