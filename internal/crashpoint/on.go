//go:build crashpoints

package crashpoint

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Enabled reports whether this build was made with -tags crashpoints.
const Enabled = true

// target is the point and hit ADOFLEET_CRASHPOINT names, read once.
var target = sync.OnceValue(func() spec {
	s, err := parse(os.Getenv(EnvVar))
	if err != nil {
		// A typo must not silently turn a crash test into a test that never crashes.
		fmt.Fprintf(os.Stderr, "adofleet crashpoint: %v\n", err)
		os.Exit(2)
	}
	return s
})

var (
	mu   sync.Mutex
	hits = map[string]int{}
)

// spec is a parsed ADOFLEET_CRASHPOINT: crash at the nth hit of name ("" = never).
type spec struct {
	name string
	nth  int
}

// parse reads "NAME" or "NAME:N" (N >= 1); "" means no crashpoint.
func parse(v string) (spec, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return spec{}, nil
	}
	name, n, found := strings.Cut(v, ":")
	s := spec{name: name, nth: 1}
	if found {
		nth, err := strconv.Atoi(n)
		if err != nil || nth < 1 {
			return spec{}, fmt.Errorf("%s=%q: want NAME or NAME:N with N a positive hit count", EnvVar, v)
		}
		s.nth = nth
	}
	if name == "" {
		return spec{}, fmt.Errorf("%s=%q: empty point name", EnvVar, v)
	}
	return s, nil
}

// Hit counts a pass through the named point and kills the process with SIGKILL when it is the
// hit ADOFLEET_CRASHPOINT names.
func Hit(name string) {
	t := target()
	if t.name != name {
		return
	}
	mu.Lock()
	hits[name]++
	n := hits[name]
	mu.Unlock()
	if n != t.nth {
		return
	}
	fmt.Fprintf(os.Stderr, "adofleet crashpoint: %s hit %d: SIGKILL\n", name, n)
	p, err := os.FindProcess(os.Getpid())
	if err == nil {
		err = p.Kill() // SIGKILL on Unix: no defers, no flushes, no graceful shutdown
	}
	if err == nil {
		time.Sleep(time.Minute) // the signal is on its way; nothing after Hit may run
	}
	fmt.Fprintf(os.Stderr, "adofleet crashpoint: kill failed (%v); exiting\n", err)
	os.Exit(137)
}
