// Command soak runs `adofleet demo` with faults for a long time, samples its /metrics every
// interval (goroutines, heap, RSS, open fds, jobs, errors, faults) and fails if a resource grows
// or jobs stop finishing. It writes samples.csv, summary.txt and summary.md to -out.
//
//	go build -o /tmp/adofleet ./cmd/adofleet
//	go run ./tools/soak -bin /tmp/adofleet -duration 30m -- --rate 2 --max 30 --faults moderate
//
// Arguments after -- go to `adofleet demo` (--listen and --duration are the harness's).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// defaultDemoArgs are the soak's workload when none is given after --: 2 jobs a second (7,200 an
// hour) of 1-4 s each on up to 30 agents, with every fault of faultinject.Moderate but two
// changes. Launches fail at 4% instead of 10%, and the pool's pause after "insufficient capacity"
// (a quarter of launch failures) is 15 s instead of 2 minutes: with the defaults the pool spent
// half of a run paused, as designed, and fell behind the arrivals, which is not what a soak is
// after. Launches run late by 5 s rather than 5 minutes, because the local provider cannot hold
// an instance pending, so a late launch is a slow Launch call that holds the pool's cycle. Ended
// agents' records and working dirs are kept 2 minutes instead of 1 hour and 10 minutes: they are
// bounded by their retention, not leaked, and a short one lets the run reach its steady state
// within the warm-up.
var defaultDemoArgs = []string{"--rate", "2", "--max", "30", "--faults", "moderate,launchfail=0.04,late=5s",
	"--capacity-backoff", "15s", "--gone-retention", "2m", "--housekeeping-interval", "1m",
	"--housekeeping-decisions", "1000", "--pprof", "--seed", "1", "--log-level", "warn"}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type options struct {
	bin      string
	duration time.Duration
	interval time.Duration
	warmup   time.Duration
	out      string
	analyze  string
	demoArgs []string
}

func parseFlags() (options, error) {
	var o options
	flag.StringVar(&o.bin, "bin", "", "the adofleet binary (required)")
	flag.DurationVar(&o.duration, "duration", 30*time.Minute, "how long to run the demo")
	flag.DurationVar(&o.interval, "interval", 30*time.Second, "how often to sample /metrics")
	flag.DurationVar(&o.warmup, "warmup", -1, "samples before this are reported, not judged (default: a sixth of -duration, at most 5m)")
	flag.StringVar(&o.out, "out", filepath.Join(os.TempDir(), "adofleet-soak"), "directory for samples.csv, summary.txt, summary.md and demo.log")
	flag.StringVar(&o.analyze, "analyze", "", "judge this samples.csv of an earlier run instead of running the demo (writes the summaries to -out)")
	flag.Parse()
	o.demoArgs = flag.Args()
	if len(o.demoArgs) == 0 {
		o.demoArgs = defaultDemoArgs
	}
	if o.warmup < 0 {
		o.warmup = min(o.duration/6, 5*time.Minute)
	}
	switch {
	case o.bin == "" && o.analyze == "":
		return o, errors.New("-bin: want the adofleet binary to run")
	case o.duration <= 0 || o.interval <= 0:
		return o, errors.New("-duration and -interval must be positive")
	case o.warmup >= o.duration:
		return o, fmt.Errorf("-warmup %s: want less than -duration %s", o.warmup, o.duration)
	}
	return o, nil
}

func run() error {
	o, err := parseFlags()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("component", "soak")
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("output dir: %w", err)
	}
	if o.analyze != "" {
		samples, err := readCSV(o.analyze)
		if err != nil {
			return err
		}
		return judge(o, []string{"(from " + o.analyze + ")"}, samples, "")
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	stateDir := filepath.Join(o.out, "state")
	if err := os.RemoveAll(stateDir); err != nil {
		return fmt.Errorf("clear the demo's state dir: %w", err)
	}
	args := append([]string{"demo", "--listen", addr, "--duration", (o.duration + o.interval).String(), "--state-dir", stateDir}, o.demoArgs...)
	demoLog, err := os.Create(filepath.Join(o.out, "demo.log"))
	if err != nil {
		return fmt.Errorf("demo log: %w", err)
	}
	defer demoLog.Close()
	demoOut, err := os.Create(filepath.Join(o.out, "demo-summary.txt"))
	if err != nil {
		return fmt.Errorf("demo summary: %w", err)
	}
	defer demoOut.Close()
	cmd := exec.Command(o.bin, args...)
	cmd.Stdout, cmd.Stderr = demoOut, demoLog
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", o.bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	log.Info("demo started", "pid", cmd.Process.Pid, "args", args, "out", o.out)

	samples, serr := sampleLoop(ctx, log, "http://"+addr+"/metrics", stateDir, o, exited)
	if serr != nil {
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case err := <-exited:
		if err != nil && serr == nil {
			serr = fmt.Errorf("demo exited: %w (see %s)", err, demoLog.Name())
		}
	case <-time.After(o.interval + 3*time.Minute):
		_ = cmd.Process.Kill()
		if serr == nil {
			serr = errors.New("demo did not stop after its --duration; killed")
		}
	}
	if err := writeCSV(filepath.Join(o.out, "samples.csv"), samples); err != nil {
		return err
	}
	if serr != nil {
		return serr
	}
	demoSummary, _ := os.ReadFile(demoOut.Name())
	return judge(o, args, samples, string(demoSummary))
}

// judge analyzes samples, writes the summaries and fails if the soak did.
func judge(o options, args []string, samples []Sample, demoSummary string) error {
	v, err := analyze(samples, o.warmup.Seconds())
	if err != nil {
		return err
	}
	if err := writeSummaries(o, args, samples, v, demoSummary); err != nil {
		return err
	}
	if !v.OK() {
		return fmt.Errorf("FAIL: %v (see %s)", v.Problems, filepath.Join(o.out, "summary.txt"))
	}
	fmt.Printf("soak PASS: %.0f jobs finished, %.0f faults injected; %s\n", v.JobsFinished, v.Faults, filepath.Join(o.out, "summary.txt"))
	return nil
}

// sampleLoop scrapes every interval from the first successful scrape until duration has passed.
func sampleLoop(ctx context.Context, log *slog.Logger, url, stateDir string, o options, exited <-chan error) ([]Sample, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	var first time.Time
	for first.IsZero() { // wait for the demo's listener
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case err := <-exited:
			return nil, fmt.Errorf("demo exited before serving /metrics: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
		if _, err := scrape(ctx, client, url); err == nil {
			first = time.Now()
		}
	}
	var samples []Sample
	next := first
	for {
		s, err := scrape(ctx, client, url)
		if err != nil {
			return samples, err
		}
		s.Seconds = time.Since(first).Seconds()
		diskSample(&s, stateDir)
		samples = append(samples, s)
		log.Info("sample", "t", time.Duration(s.Seconds*float64(time.Second)).Round(time.Second),
			"goroutines", s.Goroutines, "heap_mib", s.HeapInuse/(1<<20), "rss_mib", s.RSS/(1<<20), "fds", s.FDs,
			"queued", s.JobsQueued, "finished", s.JobsFinished, "unfinished", s.JobsUnfinished, "faults", s.Faults,
			"agent_dirs", s.AgentDirs, "db_mib", s.DBBytes/(1<<20))
		next = next.Add(o.interval)
		if next.Sub(first) > o.duration {
			return samples, nil
		}
		select {
		case <-ctx.Done():
			return samples, ctx.Err()
		case err := <-exited:
			return samples, fmt.Errorf("demo exited during the soak: %v", err)
		case <-time.After(time.Until(next)):
		}
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("pick a port for the demo: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
