//go:build crashpoints && unix

package crashpoint_test

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/adofleet/adofleet/internal/crashpoint"
)

// TestHitKillsAtTheNamedHit re-runs this test binary as a child that passes a point three times
// with the variable naming its second hit: the child must die of SIGKILL after the first pass.
func TestHitKillsAtTheNamedHit(t *testing.T) {
	if os.Getenv("CRASHPOINT_TEST_CHILD") == "1" {
		for i := 1; i <= 3; i++ {
			crashpoint.Hit("other.point") // never named: never kills
			crashpoint.Hit("test.point")
			os.Stdout.WriteString("survived " + strconv.Itoa(i) + "\n")
		}
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHitKillsAtTheNamedHit$")
	cmd.Env = append(os.Environ(), "CRASHPOINT_TEST_CHILD=1", crashpoint.EnvVar+"=test.point:2")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()

	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("child returned %v, want it killed; stdout:\n%s", err, stdout.String())
	}
	ws, _ := exit.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("child ended with %v, want killed by SIGKILL", exit)
	}
	if got, want := stdout.String(), "survived 1\n"; got != want {
		t.Errorf("child stdout = %q, want %q (alive after hit 1, dead at hit 2)", got, want)
	}
	if want := "adofleet crashpoint: test.point hit 2: SIGKILL"; !strings.Contains(stderr.String(), want) {
		t.Errorf("child stderr = %q, want it to contain %q", stderr.String(), want)
	}
}

// TestBadSpecFailsLoudly: a malformed variable stops the process rather than never crashing.
func TestBadSpecFailsLoudly(t *testing.T) {
	if os.Getenv("CRASHPOINT_TEST_CHILD") == "1" {
		crashpoint.Hit("test.point")
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBadSpecFailsLoudly$")
	cmd.Env = append(os.Environ(), "CRASHPOINT_TEST_CHILD=1", crashpoint.EnvVar+"=test.point:zero")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("child returned %v, want exit status 2; output:\n%s", err, out)
	}
	if !strings.Contains(string(out), crashpoint.EnvVar) {
		t.Errorf("output %q does not name %s", out, crashpoint.EnvVar)
	}
}
