package postgres_test

// The tests run against a real PostgreSQL server: ADOFLEET_TEST_POSTGRES_URL if set (a
// superuser, or a role that may create schemas), otherwise a throwaway cluster that TestMain
// creates in a temporary directory from the installed server binaries (Debian's postgresql
// package; `make deps` installs it), listening only on a unix socket in that directory.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// server is the database the tests use; TestMain fills it in.
var server struct {
	url      string // with the superuser's password
	password string
	external bool   // ADOFLEET_TEST_POSTGRES_URL: leave no schemas behind
	skip     string // why no server could be started (binaries missing)
	err      error  // starting the server failed

	mu      sync.Mutex
	schemas []string // schemas made on an external server, dropped at the end
}

// runID keeps schema names of concurrent runs against one external server apart.
var runID = randomHex(4)

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	if u := os.Getenv("ADOFLEET_TEST_POSTGRES_URL"); u != "" {
		server.url, server.external = u, true
		if cfg, err := pgx.ParseConfig(u); err == nil {
			server.password = cfg.Password
		}
		defer dropSchemas()
		return m.Run()
	}
	bin, err := findServerBinaries()
	if err != nil {
		server.skip = err.Error()
		return m.Run()
	}
	// The server dies with the thread that started it (Pdeathsig): keep that thread alive.
	runtime.LockOSThread()
	c, err := startCluster(bin)
	if err != nil {
		server.err = err
		return m.Run()
	}
	defer c.stop()
	server.url, server.password = c.url, c.password
	return m.Run()
}

// serverURL returns the test server's URL, or skips (fails under CI) when there is none.
func serverURL(t *testing.T) string {
	t.Helper()
	switch {
	case server.skip != "" && os.Getenv("CI") != "":
		t.Fatalf("no PostgreSQL server for the tests (CI is set, so this fails rather than skips): %s", server.skip)
	case server.skip != "":
		t.Skipf("no PostgreSQL server for the tests: %s; install it with `sudo apt-get install postgresql` (or `make deps`), or set ADOFLEET_TEST_POSTGRES_URL", server.skip)
	case server.err != nil:
		t.Fatalf("start the test PostgreSQL server: %v", server.err)
	}
	return server.url
}

// schemaSeq makes schema names unique within a run, so -count=N reruns start afresh.
var schemaSeq atomic.Int64

// schemaFor names a fresh schema for a test; on an external server it is dropped at the end.
func schemaFor(t *testing.T, name string) string {
	t.Helper()
	return remember(fmt.Sprintf("adofleet_test_%s_%d_%s", runID, schemaSeq.Add(1), name))
}

// remember records a schema to drop at the end when the server is not ours to throw away.
func remember(schema string) string {
	if server.external {
		server.mu.Lock()
		if !slices.Contains(server.schemas, schema) {
			server.schemas = append(server.schemas, schema)
		}
		server.mu.Unlock()
	}
	return schema
}

func dropSchemas() {
	if len(server.schemas) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server.url)
	if err != nil {
		fmt.Fprintf(os.Stderr, "drop test schemas: connect failed\n")
		return
	}
	defer conn.Close(ctx)
	for _, s := range server.schemas {
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{s}.Sanitize()+` CASCADE`); err != nil {
			fmt.Fprintf(os.Stderr, "drop test schema %s: %v\n", s, err)
		}
	}
}

// findServerBinaries finds initdb and postgres on PATH or in Debian's versioned directories.
func findServerBinaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "postgres")); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return majorOf(b) - majorOf(a) }) // newest first
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("initdb and postgres not found on PATH or in /usr/lib/postgresql/*/bin")
}

func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// cluster is a throwaway PostgreSQL server.
type cluster struct {
	dir      string
	url      string
	password string
	cmd      *exec.Cmd
	exited   chan struct{}
}

// clusterPrefix names the temporary directories of test clusters.
const clusterPrefix = "adofleet-pg-"

func startCluster(bin string) (*cluster, error) {
	removeStaleClusters()
	dir, err := os.MkdirTemp("", clusterPrefix)
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir, password: randomHex(16), exited: make(chan struct{})}
	fail := func(err error) (*cluster, error) {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	// initdb and postgres refuse to run as root: run them as the postgres user.
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		if cred, err = postgresUser(); err != nil {
			return fail(err)
		}
	}
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(c.password+"\n"), 0o600); err != nil {
		return fail(err)
	}
	if cred != nil {
		for _, p := range []string{dir, pwfile} {
			if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
				return fail(err)
			}
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"--auth=scram-sha-256", "--pwfile="+pwfile, "-E", "UTF8", "--no-locale", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %w\n%s", err, out))
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return fail(err)
	}
	defer logf.Close()
	c.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-k", dir,
		"-c", "listen_addresses=", "-c", "max_connections=200", "-c", "shared_buffers=32MB",
		// A throwaway cluster: durability buys nothing and costs time.
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	// SIGQUIT (immediate shutdown) if the test binary dies without stopping it.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	if err := c.cmd.Start(); err != nil {
		return fail(fmt.Errorf("start postgres: %w", err))
	}
	go func() { _ = c.cmd.Wait(); close(c.exited) }()
	c.url = fmt.Sprintf("postgres://postgres:%s@/postgres?host=%s&sslmode=disable", c.password, url.QueryEscape(dir))
	if err := c.waitReady(30 * time.Second); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// waitReady polls until the server accepts a connection, it exits, or the limit passes.
func (c *cluster) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, c.url)
		cancel()
		if err == nil {
			_ = conn.Close(context.Background())
			return nil
		}
		select {
		case <-c.exited:
			return fmt.Errorf("postgres exited during startup:\n%s", c.logTail())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready after %v:\n%s", limit, c.logTail())
		}
	}
}

// stop shuts the server down (fast mode, then a kill) and removes its directory.
func (c *cluster) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.exited:
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
	_ = os.RemoveAll(c.dir)
}

func (c *cluster) logTail() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

// removeStaleClusters removes the directories of earlier runs that were killed before they
// could clean up (their server died with them): those whose server is no longer running.
func removeStaleClusters() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), clusterPrefix+"*"))
	for _, d := range dirs {
		st, err := os.Stat(d)
		if err != nil || time.Since(st.ModTime()) < time.Minute {
			continue // possibly a run starting right now
		}
		if b, err := os.ReadFile(filepath.Join(d, "data", "postmaster.pid")); err == nil {
			line, _, _ := strings.Cut(string(b), "\n")
			if pid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && syscall.Kill(pid, 0) == nil {
				continue // its server still runs: another test binary's
			}
		}
		_ = os.RemoveAll(d)
	}
}

// postgresUser is the credential of the postgres user the Debian package creates.
func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL refuses to: need a postgres user to run it as: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres user id %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres group id %q: %w", u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
