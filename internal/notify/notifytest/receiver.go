package notifytest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Receiver is a recording HTTP receiver for notification tests: a notification endpoint (Slack,
// Teams or a webhook) on loopback, built on httptest, that records every request it gets and
// answers each with the next of its scripted answers, then with its default answer (200 "ok"
// unless SetDefault changed it). Like the real endpoints it takes only JSON POSTs: it answers any
// other request 400 (after recording it and using up an answer). It is safe for concurrent use.
type Receiver struct {
	*httptest.Server

	mu     sync.Mutex
	reqs   []Request
	script []Answer
	def    Answer
}

// Request is one request a Receiver got, and the status it answered with.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
	Status int
}

// Answer is how a Receiver answers one request.
type Answer struct {
	Status     int    // the status code; 0 means 200
	RetryAfter string // the Retry-After header, if not empty
	Body       string
}

// NewReceiver starts a Receiver that answers its first requests with script, in order; t's
// cleanup closes it.
func NewReceiver(t testing.TB, script ...Answer) *Receiver {
	t.Helper()
	r := &Receiver{script: script, def: Answer{Status: http.StatusOK, Body: "ok"}}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	a := r.def
	if len(r.script) > 0 {
		a, r.script = r.script[0], r.script[1:]
	}
	status := a.Status
	if status == 0 {
		status = http.StatusOK
	}
	jsonPost := req.Method == http.MethodPost && req.Header.Get("Content-Type") == "application/json"
	if !jsonPost {
		status = http.StatusBadRequest
	}
	r.reqs = append(r.reqs, Request{Method: req.Method, Path: req.URL.Path, Header: req.Header.Clone(), Body: body, Status: status})
	r.mu.Unlock()
	if !jsonPost {
		http.Error(w, "want a JSON POST", status)
		return
	}
	if a.RetryAfter != "" {
		w.Header().Set("Retry-After", a.RetryAfter)
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, a.Body)
}

// SetDefault makes a the answer to every request once the script is used up, as an endpoint that
// goes down (Answer{Status: 503}) and comes back (Answer{Body: "ok"}) would.
func (r *Receiver) SetDefault(a Answer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.def = a
}

// Requests returns a copy of the requests the Receiver got so far, oldest first.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.reqs...)
}
