package controller_test

import (
	"bufio"
	"bytes"
	"encoding/gob"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// replayFileEnv makes TestReplayServerProcess serve the recorded answers in this file: the
// benchmark's ADO in a process of its own, so that the benchmark's process CPU, and its GC, are
// the controller's (and the fake providers') alone.
const replayFileEnv = "ADOFLEET_BENCH_REPLAY_FILE"

// TestReplayServerProcess is not a test: the benchmarks run the test binary with replayFileEnv
// set and this test selected. It serves each recorded GET until its stdin closes (the parent
// ended) and prints its address first.
func TestReplayServerProcess(t *testing.T) {
	file := os.Getenv(replayFileEnv)
	if file == "" {
		t.Skip("the benchmarks' replay server; runs only as their child process")
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("open recordings: %v", err)
	}
	var rec map[string][]byte
	err = gob.NewDecoder(f).Decode(&rec)
	_ = f.Close()
	if err != nil {
		t.Fatalf("decode recordings %s: %v", file, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := rec[r.URL.String()]
		if !ok || r.Method != http.MethodGet {
			http.Error(w, "not recorded: "+r.Method+" "+r.URL.String(), http.StatusNotImplemented)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8; api-version=7.1")
		_, _ = w.Write(body)
	})}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("listening %s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin) // returns once the parent closes our stdin or exits
	_ = srv.Close()
}

// replayProc is the replay server's process.
type replayProc struct {
	cmd *exec.Cmd
}

// startReplayProcess hands the answers recorded so far to a replay server process and points the
// controller's ADO client at it. The simulator and the recordings are then dropped from this
// process, so that they no longer weigh on its GC; from here on every ADO call must be a
// recorded GET.
func (s *benchADO) startReplayProcess(b *testing.B) {
	b.Helper()
	rec := map[string][]byte{}
	s.recorded.Range(func(k, v any) bool {
		rec[k.(string)] = v.([]byte)
		return true
	})
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(rec); err != nil {
		b.Fatalf("encode recordings: %v", err)
	}
	file := filepath.Join(b.TempDir(), "replay.gob")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		b.Fatalf("write recordings: %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestReplayServerProcess$", "-test.count", "1")
	cmd.Env = append(os.Environ(), replayFileEnv+"="+file)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatalf("replay server stdin: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatalf("replay server stdout: %v", err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("start replay server: %v", err)
	}
	b.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		b.Fatalf("replay server did not start: %q, %v", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }() // the child's PASS line
	s.host.Store(&addr)
	s.proc = &replayProc{cmd: cmd}
	s.recorded.Clear()
	s.org, s.sim = nil, nil
}

// cpu returns the replay server's CPU so far (user and system; Linux's /proc, in clock ticks of
// 10 ms), or false where it cannot be read.
func (p *replayProc) cpu() (time.Duration, bool) {
	if p == nil {
		return 0, false
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, false
	}
	// Fields after the command name, which is in parentheses and may hold spaces: state is
	// the first, utime and stime the 12th and 13th.
	_, rest, ok := strings.Cut(string(raw), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	const tick = 10 * time.Millisecond // USER_HZ, 100 on Linux
	return time.Duration(ut+st) * tick, true
}

// redirect sends a request to host instead, when set (the replay server process).
func redirect(host *atomic.Pointer[string], r *http.Request) *http.Request {
	h := host.Load()
	if h == nil {
		return r
	}
	// A shallow copy with its own URL: the request itself must not be changed, and a deep
	// Clone (headers included) cost the benchmark about a millisecond of CPU per fleet cycle
	// that the controller does not spend.
	c, u := *r, *r.URL
	u.Host = *h
	c.URL, c.Host = &u, *h
	return &c
}
