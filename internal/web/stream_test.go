package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/web"
)

// sseReader reads one event at a time from a stream.
type sseReader struct{ r *bufio.Reader }

// next returns the next event's name and data, skipping comments and the retry field.
func (s sseReader) next(t *testing.T) (string, string) {
	t.Helper()
	var name, data string
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" && (name != "" || data != ""):
			return name, data
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data += strings.TrimPrefix(line, "data: ")
		}
	}
}

func newStreamServer(t *testing.T, src *fakeSource, opts web.Options) (*web.Server, *httptest.Server) {
	t.Helper()
	opts.Source, opts.History, opts.Gatherer = src, src, prometheus.NewRegistry()
	h, err := web.New(opts)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.RegisterOnShutdown(h.Close)
	srv.Start()
	t.Cleanup(srv.Close)
	return h, srv
}

func TestEventsStreamOverHTTP(t *testing.T) {
	t.Parallel()
	src := newSampleSource()
	_, srv := newStreamServer(t, src, web.Options{Refresh: 50 * time.Millisecond})
	res, err := http.Get(srv.URL + "/api/events")
	if err != nil {
		t.Fatalf("GET /api/events: %v", err)
	}
	defer res.Body.Close()
	if got := res.Header.Get("Content-Type"); got != "text/event-stream" {
		t.Fatalf("Content-Type: got %q, want text/event-stream", got)
	}
	events := sseReader{bufio.NewReader(res.Body)}

	name, data := events.next(t)
	_, api := do(t, "GET", srv.URL+"/api/status")
	if name != "status" || data != strings.TrimSpace(api) {
		t.Errorf("first event: got %s %s, want status with the body of /api/status %s", name, data, api)
	}

	next := sampleStatus()
	next.Pools[0].QueuedJobs = 42
	src.set(next, nil)
	name, data = events.next(t)
	var got web.Status
	if err := json.Unmarshal([]byte(data), &got); err != nil || name != "status" {
		t.Fatalf("second event: got %s %q (%v), want a status", name, data, err)
	}
	if got.Pools[0].QueuedJobs != 42 {
		t.Errorf("second event: queued %d, want 42", got.Pools[0].QueuedJobs)
	}

	src.set(next, context.DeadlineExceeded)
	name, data = events.next(t)
	if want := `{"error":"reading status: context deadline exceeded"}`; name != "failure" || data != want {
		t.Errorf("event of a failing source: got %s %s, want failure %s", name, data, want)
	}
}

func TestEventsAreBoundedAndEndOnShutdown(t *testing.T) {
	t.Parallel()
	h, srv := newStreamServer(t, newSampleSource(), web.Options{MaxStreams: 2})
	var streams []*http.Response
	for range 2 {
		res, err := http.Get(srv.URL + "/api/events")
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET /api/events: %v %v", res, err)
		}
		defer res.Body.Close()
		streams = append(streams, res)
	}
	res, body := do(t, "GET", srv.URL+"/api/events")
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || !strings.Contains(body, "too many live streams") {
		t.Errorf("third stream: got %d Retry-After=%q %q, want 503 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	if res, _ := do(t, "HEAD", srv.URL+"/api/events"); res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("HEAD /api/events: got %d %q, want 200 text/event-stream", res.StatusCode, res.Header.Get("Content-Type"))
	}

	// Shutdown returns only when every handler has: Close, registered with
	// RegisterOnShutdown, must end the streams.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Config.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v (the streams did not end)", err)
	}
	for i, s := range streams {
		if _, err := bufio.NewReader(s.Body).ReadString(0); err == nil {
			t.Errorf("stream %d: still open after shutdown", i)
		}
	}
	h.Close() // idempotent
}

// recorder is a streaming ResponseWriter for handlers run inside a synctest bubble.
type recorder struct {
	mu     sync.Mutex
	header http.Header
	code   int
	buf    strings.Builder
}

func (r *recorder) Header() http.Header  { return r.header }
func (r *recorder) WriteHeader(code int) { r.code = code }
func (r *recorder) Flush()               {}
func (r *recorder) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.Write(b)
}

// take returns what was written since the last take.
func (r *recorder) take() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.buf.String()
	r.buf.Reset()
	return s
}

// TestEventsOnlyOnChange runs the stream on synctest's clock: an event only
// when the status changed, a keep-alive when idle, and the poller stops
// with its last client (synctest fails on a goroutine left running).
func TestEventsOnlyOnChange(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		src := newSampleSource()
		h, err := web.New(web.Options{Source: src, Gatherer: prometheus.NewRegistry(), Refresh: 2 * time.Second})
		if err != nil {
			t.Fatalf("web.New: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		req := httptest.NewRequestWithContext(ctx, "GET", "/api/events", nil)
		rec := &recorder{header: http.Header{}}
		done := make(chan struct{})
		go func() { h.ServeHTTP(rec, req); close(done) }()

		synctest.Wait()
		first := rec.take()
		if !strings.HasPrefix(first, "retry: 3000\n\nevent: status\ndata: {") || strings.Count(first, "event: ") != 1 {
			t.Fatalf("start of the stream: got %q, want the retry field and one status event", first)
		}
		time.Sleep(6 * time.Second) // three polls of an unchanged status
		synctest.Wait()
		if got := rec.take(); got != "" {
			t.Errorf("unchanged status: got %q, want nothing sent", got)
		}
		next := sampleStatus()
		next.Pools[1].LastError = ""
		src.set(next, nil)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := rec.take(); strings.Count(got, "event: status") != 1 || strings.Contains(got, `"last_error":"listing`) {
			t.Errorf("changed status: got %q, want one status event without the cleared error", got)
		}
		time.Sleep(15 * time.Second)
		synctest.Wait()
		if got := rec.take(); got != ": keep-alive\n\n" {
			t.Errorf("idle stream: got %q, want one keep-alive", got)
		}
		cancel()
		<-done
		// The poller notices at its next tick that nobody listens, and stops;
		// were it still running, synctest.Test would fail with a deadlock.
		time.Sleep(2 * time.Second)
		synctest.Wait()
		want := http.Header{"Content-Type": {"text/event-stream"}, "Cache-Control": {"no-store"}, "X-Accel-Buffering": {"no"}}
		for k, v := range want {
			if got := rec.header[k]; !cmp.Equal(got, v) {
				t.Errorf("header %s: got %q, want %q", k, got, v)
			}
		}
	})
}

// TestEventsOutlastServerTimeouts serves the stream from NewHTTPServer with
// its timeouts made short: the stream must go on past them.
func TestEventsOutlastServerTimeouts(t *testing.T) {
	t.Parallel()
	src := newSampleSource()
	h, err := web.New(web.Options{Source: src, History: src, Gatherer: prometheus.NewRegistry(), Refresh: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	srv := web.NewHTTPServer("127.0.0.1:0", h)
	srv.ReadTimeout, srv.WriteTimeout = 100*time.Millisecond, 100*time.Millisecond
	srv.RegisterOnShutdown(h.Close)
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	res, err := http.Get("http://" + ln.Addr().String() + "/api/events")
	if err != nil {
		t.Fatalf("GET /api/events: %v", err)
	}
	defer res.Body.Close()
	events := sseReader{bufio.NewReader(res.Body)}
	if name, _ := events.next(t); name != "status" {
		t.Fatalf("first event: got %q, want status", name)
	}
	// Both timeouts pass several times over before the next change.
	time.Sleep(500 * time.Millisecond)
	next := sampleStatus()
	next.Pools[0].QueuedJobs = 17
	src.set(next, nil)
	name, data := events.next(t)
	if name != "status" || !strings.Contains(data, `"queued_jobs":17`) {
		t.Errorf("event after the timeouts: got %s %.200s, want the changed status", name, data)
	}
}
