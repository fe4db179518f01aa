package main

import (
	"context"
	"encoding/base64"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var simulatorURLRE = regexp.MustCompile(`simulator=(http://\S+)`)

// TestDemoNeverRevealsThePAT runs the demo with debug logs and a PAT the test knows, and looks
// for it (and its Basic-auth form) in everything the demo shows: its output and logs, /metrics,
// /api/status, the dashboard page, and every file it leaves in its state dir (the SQLite
// database, the agents' logs and state files).
func TestDemoNeverRevealsThePAT(t *testing.T) {
	if testing.Short() {
		t.Skip("starts agent processes")
	}
	const pat = "demo-pat-SECRET-5f1c0e9a7b3d"
	t.Setenv(demoPATEnv, pat)
	secrets := []string{pat, base64.StdEncoding.EncodeToString([]byte(":" + pat))}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	run := startCLI(ctx, "demo", "--jobs", "10", "--listen", "127.0.0.1:0", "--log-level", "debug",
		"--rate", "20", "--min-duration", "50ms", "--max-duration", "200ms", "--boot-time", "100ms",
		"--resync", "500ms", "--idle-timeout", "1s", "--max", "4", "--state-dir", dir)
	stdout, stderr, done := &run.out, &run.err, run.done
	base := run.dashboardURL(t, ctx)

	var shown strings.Builder // every page scraped while the demo runs
	checkedPAT := false
	var err error
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-time.After(100 * time.Millisecond):
			for _, path := range []string{"/metrics", "/api/status", "/"} {
				shown.WriteString(get(t, base+path))
			}
			if !checkedPAT {
				checkedPAT = simulatorTakes(t, stderr.String(), pat)
			}
		}
	}
	if err != nil {
		t.Fatalf("demo failed: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	// Not vacuous: the simulator took the PAT under test, the logs are at debug level, and the
	// pages were scraped while the pool was up.
	if !checkedPAT {
		t.Error("never saw the simulator accept the PAT set in " + demoPATEnv)
	}
	if !strings.Contains(stderr.String(), "level=DEBUG") {
		t.Error("no debug lines in the demo's log")
	}
	for _, want := range []string{"adofleet_reconcile_total", `"name":"demo"`} {
		if !strings.Contains(shown.String(), want) {
			t.Errorf("the scraped pages never showed %s", want)
		}
	}

	places := map[string]string{"stdout": stdout.String(), "stderr": stderr.String(), "scraped pages": shown.String()}
	files := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		places[path] = string(b)
		return nil
	})
	if err != nil {
		t.Fatalf("read the state dir: %v", err)
	}
	if files == 0 {
		t.Error("the state dir is empty: nothing to check")
	}
	for where, text := range places {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s reveals the PAT (%q)", where, s)
			}
		}
	}
}

// simulatorTakes reports whether the simulator named in the demo's log accepts pat and refuses
// another credential; false while the log does not name it yet.
func simulatorTakes(t *testing.T, log, pat string) bool {
	t.Helper()
	m := simulatorURLRE.FindStringSubmatch(log)
	if m == nil {
		return false
	}
	status := func(token string) int {
		req, err := http.NewRequest(http.MethodGet, m[1]+"/_apis/distributedtask/pools?api-version=7.1", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth("", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(pat); got != http.StatusOK {
		t.Errorf("simulator answered %d to the PAT from %s, want 200", got, demoPATEnv)
		return true
	}
	if got := status("not-" + pat); got != http.StatusUnauthorized {
		t.Errorf("simulator answered %d to another PAT, want 401", got)
	}
	return true
}
