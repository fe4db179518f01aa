package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Live updates: GET /api/events is a server-sent event stream of "status" events (the body of
// /api/status) and "failure" events ({"error": ...}) when the source fails. One hub polls the
// source for all clients, only while there are clients, and sends an event only when it changed,
// so the store is read once per refresh however many pages are open.
const (
	// streamHeartbeat keeps idle proxies from closing the stream and finds dead clients.
	streamHeartbeat = 15 * time.Second
	// streamWriteTimeout bounds each write, in place of the server's WriteTimeout, which would
	// otherwise end every stream after one WriteTimeout.
	streamWriteTimeout = 10 * time.Second
	// streamRetryMS is the reconnect delay the stream asks EventSource to use.
	streamRetryMS = 3000
)

// hub fans one poller's events out to the subscribed streams.
type hub struct {
	poll     func(ctx context.Context) []byte
	interval time.Duration
	limit    int

	ctx    context.Context // ends with close, and with it the poller's calls
	cancel context.CancelFunc

	mu      sync.Mutex
	subs    map[*subscriber]struct{}
	last    []byte // the latest event, for a stream that joins between polls
	running bool
}

// subscriber holds at most one pending event; a slow client skips to the newest.
type subscriber struct {
	ch chan []byte
}

func newHub(poll func(context.Context) []byte, interval time.Duration, limit int) *hub {
	ctx, cancel := context.WithCancel(context.Background())
	return &hub{poll: poll, interval: interval, limit: limit, ctx: ctx, cancel: cancel, subs: map[*subscriber]struct{}{}}
}

var (
	errTooManyStreams = errors.New("too many live streams")
	errClosed         = errors.New("server shutting down")
)

// subscribe adds a stream and starts the poller if it is the first.
func (h *hub) subscribe() (*subscriber, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ctx.Err() != nil {
		return nil, errClosed
	}
	if len(h.subs) >= h.limit {
		return nil, errTooManyStreams
	}
	sub := &subscriber{ch: make(chan []byte, 1)}
	if h.last != nil {
		sub.ch <- h.last
	}
	h.subs[sub] = struct{}{}
	if !h.running {
		h.running = true
		go h.run()
	}
	return sub, nil
}

func (h *hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs, sub)
}

func (h *hub) close() { h.cancel() }

// run polls until the hub closes or its last subscriber leaves.
func (h *hub) run() {
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		h.publish(h.poll(h.ctx))
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		h.mu.Lock()
		if len(h.subs) == 0 {
			h.running, h.last = false, nil
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
	}
}

func (h *hub) publish(ev []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ev == nil || bytes.Equal(ev, h.last) {
		return
	}
	h.last = ev
	for sub := range h.subs {
		select {
		case <-sub.ch: // drop the stale event the client has not taken yet
		default:
		}
		sub.ch <- ev
	}
}

// pollStatus reads the status once and frames it as an event.
func (s *Server) pollStatus(ctx context.Context) []byte {
	st, err := s.status(ctx)
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return sseEvent("failure", apiError{Error: err.Error()})
	}
	return sseEvent("status", st)
}

// sseEvent frames v as one event. JSON has no raw newlines, so it is one data line.
func sseEvent(name string, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		data, _ = json.Marshal(apiError{Error: "encoding event: " + err.Error()})
		name = "failure"
	}
	var b bytes.Buffer
	b.WriteString("event: ")
	b.WriteString(name)
	b.WriteString("\ndata: ")
	b.Write(data)
	b.WriteString("\n\n")
	return b.Bytes()
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		return
	}
	sub, err := s.hub.subscribe()
	if err != nil {
		w.Header().Set("Retry-After", "10")
		writeText(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	defer s.hub.unsubscribe(sub)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	// The stream outlives the server's WriteTimeout (and ReadTimeout): lift the read deadline
	// and bound each write on its own instead.
	_ = rc.SetReadDeadline(time.Time{})
	write := func(b []byte) bool {
		// A writer without deadlines (a test recorder) is fine: ErrNotSupported is ignored.
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte("retry: " + strconv.Itoa(streamRetryMS) + "\n\n")) {
		return
	}
	beat := time.NewTicker(streamHeartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.hub.ctx.Done():
			return
		case ev := <-sub.ch:
			if !write(ev) {
				return
			}
		case <-beat.C:
			if !write([]byte(": keep-alive\n\n")) {
				return
			}
		}
	}
}
