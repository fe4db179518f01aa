package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for the adofleet binary: the local provider starts agents
// as `<os.Executable()> agent-sim`, which in a test is this binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "agent-sim" {
		root := newRootCmd()
		root.SetArgs(os.Args[1:])
		if err := root.ExecuteContext(context.Background()); err != nil {
			os.Stderr.WriteString("agent-sim: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runCLI runs the root command with args and returns stdout, stderr and the error.
func runCLI(ctx context.Context, args ...string) (string, string, error) {
	var out, errb bytes.Buffer
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	err := root.ExecuteContext(ctx)
	return out.String(), errb.String(), err
}

// cliRun is a command running in the background, its output readable while it runs.
type cliRun struct {
	out, err syncBuffer
	done     chan error
}

// startCLI runs the root command with args in the background.
func startCLI(ctx context.Context, args ...string) *cliRun {
	r := &cliRun{done: make(chan error, 1)}
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&r.out)
	root.SetErr(&r.err)
	go func() { r.done <- root.ExecuteContext(ctx) }()
	return r
}

var dashboardLine = regexp.MustCompile(`msg="dashboard ready" url=(http://[^ /]+)/`)

// dashboardURL waits for the command's "dashboard ready" log line (it must log at info or below)
// and returns the base URL it bound. Tests listen on port 0, so no port can be taken by another test
// between choosing it and binding it.
func (r *cliRun) dashboardURL(t *testing.T, ctx context.Context) string {
	t.Helper()
	for {
		if m := dashboardLine.FindStringSubmatch(r.err.String()); m != nil {
			return m[1]
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no dashboard address logged; stderr:\n%s", r.err.String())
		case err := <-r.done:
			r.done <- err // leave it for the caller
			t.Fatalf("command ended (%v) before logging its dashboard address; stderr:\n%s", err, r.err.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
