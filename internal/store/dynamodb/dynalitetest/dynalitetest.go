// Package dynalitetest runs dynalite, an in-memory DynamoDB emulator (npm, pinned in
// tools/emulators), as a subprocess for tests, so the AWS SDK's real serializers talk to a real
// DynamoDB wire protocol over HTTP. Install it with `make deps` (npm ci --prefix tools/emulators).
//
// Start one server per test binary from TestMain and hand its error to Require in each test:
//
//	var emu *dynalitetest.Server
//	var emuErr error
//
//	func TestMain(m *testing.M) {
//		emu, emuErr = dynalitetest.Start(context.Background())
//		code := m.Run()
//		emu.Close()
//		os.Exit(code)
//	}
package dynalitetest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// InstallHint is the command that installs the emulator, from the module root.
const InstallHint = "npm ci --prefix tools/emulators (or make deps)"

// ErrNotInstalled: node or dynalite is missing; tests skip (or fail under CI).
var ErrNotInstalled = errors.New("dynalite is not installed")

// startTimeout bounds the wait for the emulator to listen.
const startTimeout = 20 * time.Second

// Server is a running dynalite.
type Server struct {
	// Endpoint is its base URL, for the SDK's BaseEndpoint.
	Endpoint string
	cmd      *exec.Cmd
	exited   chan struct{}
}

// Start runs dynalite on a free loopback port and waits until it listens. The process is killed
// by Close, and by the kernel if the test binary dies first: call Start from TestMain's
// goroutine, whose thread it locks (the kill signal follows the thread that started it).
func Start(ctx context.Context) (*Server, error) {
	var err error
	for range 3 { // the free port may be taken before dynalite binds it: try another
		var s *Server
		if s, err = start(ctx); err == nil || errors.Is(err, ErrNotInstalled) {
			return s, err
		}
	}
	return nil, err
}

func start(ctx context.Context) (*Server, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("%w: node not on PATH (apt-get install nodejs npm, then %s)", ErrNotInstalled, InstallHint)
	}
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	cli := filepath.Join(root, "tools", "emulators", "node_modules", "dynalite", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		return nil, fmt.Errorf("%w: %s missing; run %s", ErrNotInstalled, cli, InstallHint)
	}
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("dynalite: pick a port: %w", err)
	}
	runtime.LockOSThread()
	cmd := exec.Command(node, cli, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	cmd.SysProcAttr = sysProcAttr()
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("dynalite: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("dynalite: start %s: %w", cli, err)
	}
	s := &Server{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, exited: make(chan struct{})}
	listening := make(chan struct{})
	go func() {
		// It prints one line once it listens; the rest (with --verbose) is drained.
		sc := bufio.NewScanner(out)
		once := false
		for sc.Scan() {
			if !once && strings.Contains(sc.Text(), "listening") {
				once = true
				close(listening)
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(s.exited) }()
	select {
	case <-listening:
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("dynalite exited before listening (%v)", cmd.ProcessState)
	case <-time.After(startTimeout):
	case <-ctx.Done():
	}
	s.Close()
	return nil, fmt.Errorf("dynalite did not listen on port %d within %v", port, startTimeout)
}

// Close kills the emulator (its data is in memory and goes with it). A nil Server is fine.
func (s *Server) Close() {
	if s == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Client returns an SDK client for the emulator: static credentials, a fixed region, and no
// more than 3 attempts so a broken test fails fast.
func (s *Server) Client() *ddb.Client {
	return ddb.New(ddb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(s.Endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 3,
	})
}

// Require returns the server, or skips the test when the emulator is not installed (fails it
// when the CI environment variable is set, since CI installs it), or fails it when the emulator
// would not start.
func Require(tb testing.TB, s *Server, err error) *Server {
	tb.Helper()
	switch {
	case errors.Is(err, ErrNotInstalled) && os.Getenv("CI") != "":
		tb.Fatalf("DynamoDB emulator (CI is set, so this fails rather than skips): %v", err)
	case errors.Is(err, ErrNotInstalled):
		tb.Skipf("DynamoDB emulator: %v", err)
	case err != nil:
		tb.Fatalf("start the DynamoDB emulator: %v", err)
	}
	return s
}

// moduleRoot is the nearest directory above the working directory that holds go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("dynalite: no go.mod above the working directory")
		}
		dir = parent
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
