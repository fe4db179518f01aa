// Package ec2fake is an httptest server speaking the EC2 Query protocol (form-encoded
// Action=..., XML responses in the 2016-11-15 namespace, errors as
// <Response><Errors><Error><Code>) for the few operations the EC2 provider uses: RunInstances,
// DescribeInstances (with filters and pagination), TerminateInstances and CreateTags.
//
// It records every call, is idempotent by ClientToken like EC2, and can be told to fail:
// capacity errors for spot or one instance type, or throttling with RequestLimitExceeded.
package ec2fake

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Namespace is the XML namespace of EC2 API version 2016-11-15.
const Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

// Call is one request the fake received.
type Call struct {
	Action string
	Params url.Values
}

// Fault makes matching requests fail. Zero fields match anything.
type Fault struct {
	Action       string // e.g. "RunInstances"
	Spot         *bool  // RunInstances: only spot (true) or only on-demand (false) requests
	InstanceType string // RunInstances: only this instance type
	SubnetID     string // RunInstances: only this subnet
	TagKey       string // RunInstances: only requests tagging the instance with TagKey=TagValue
	TagValue     string
	Code         string // the EC2 error code returned
	Message      string
	Status       int // HTTP status (default 400; 503 for RequestLimitExceeded)
	Times        int // fail this many matching requests, then stop (0: always)
}

// Server is the fake. Its zero value is not usable: call New.
type Server struct {
	URL string // endpoint for the SDK's BaseEndpoint
	// PageSize caps DescribeInstances pages below the client's MaxResults (0: no cap), to
	// exercise pagination.
	PageSize int
	// Zones maps a subnet to its availability zone (default "<region>a" for every subnet).
	Zones map[string]string

	srv   *httptest.Server
	clock func() time.Time

	mu        sync.Mutex
	instances map[string]*Instance
	order     []string
	tokens    map[string][]string // ClientToken -> instance IDs
	calls     []Call
	faults    []*Fault
	reads     map[string]map[string]bool // action -> parameter patterns read
	nextID    int
}

// New starts a fake closed at the end of tb. clock may be nil (time.Now).
func New(tb testing.TB, clock func() time.Time) *Server {
	if clock == nil {
		clock = time.Now
	}
	s := &Server{
		clock:     clock,
		instances: map[string]*Instance{},
		tokens:    map[string][]string{},
		reads:     map[string]map[string]bool{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

// Fail adds a fault; the first matching fault with calls left wins.
func (s *Server) Fail(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fc := f
	s.faults = append(s.faults, &fc)
}

// Throttle makes the next n calls of action fail with RequestLimitExceeded (HTTP 503).
func (s *Server) Throttle(action string, n int) {
	s.Fail(Fault{Action: action, Code: "RequestLimitExceeded", Message: "Request limit exceeded.",
		Status: http.StatusServiceUnavailable, Times: n})
}

// Calls returns the calls received for action ("" for all), oldest first.
func (s *Server) Calls(action string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if action == "" || c.Action == action {
			out = append(out, c)
		}
	}
	return out
}

// ParamsRead returns, by action, the parameter patterns ("Filter.N.Value.N") the fake has read,
// for checking against the AWS model.
func (s *Server) ParamsRead() map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]string{}
	for a, ps := range s.reads {
		for p := range ps {
			out[a] = append(out[a], p)
		}
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "MalformedQueryString", err.Error())
		return
	}
	action := r.PostForm.Get("Action")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Action: action, Params: r.PostForm})
	q := &params{v: r.PostForm, action: action, reads: s.reads}
	var (
		resp any
		err  *apiError
	)
	switch action {
	case "RunInstances":
		resp, err = s.runInstances(q)
	case "DescribeInstances":
		resp, err = s.describeInstances(q)
	case "TerminateInstances":
		resp, err = s.terminateInstances(q)
	case "CreateTags":
		resp, err = s.createTags(q)
	default:
		err = &apiError{Code: "InvalidAction", Message: fmt.Sprintf("The action %s is not valid for this web service.", action)}
	}
	if err != nil {
		writeError(w, err.status(), err.Code, err.Message)
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	b, merr := xml.Marshal(resp)
	if merr != nil {
		writeError(w, http.StatusInternalServerError, "InternalError", merr.Error())
		return
	}
	_, _ = w.Write(append([]byte(xml.Header), b...))
}

// fault returns the first live fault matching the request, consuming one of its calls.
func (s *Server) fault(action string, match func(*Fault) bool) *apiError {
	for _, f := range s.faults {
		if f.Action != "" && f.Action != action || f.Times < 0 {
			continue
		}
		if match != nil && !match(f) {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				f.Times = -1 // spent
			}
		}
		return &apiError{Code: f.Code, Message: f.Message, Status: f.Status}
	}
	return nil
}

type apiError struct {
	Code, Message string
	Status        int
}

func (e *apiError) status() int {
	switch {
	case e.Status != 0:
		return e.Status
	case e.Code == "RequestLimitExceeded":
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadRequest
	}
}

// errorResponse is EC2's error document.
type errorResponse struct {
	XMLName   xml.Name    `xml:"Response"`
	Errors    []errorItem `xml:"Errors>Error"`
	RequestID string      `xml:"RequestID"`
}

type errorItem struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	b, _ := xml.Marshal(errorResponse{Errors: []errorItem{{code, msg}}, RequestID: "fake-request"})
	_, _ = w.Write(append([]byte(xml.Header), b...))
}

// params reads form values and records which parameter patterns were read.
type params struct {
	v      url.Values
	action string
	reads  map[string]map[string]bool
}

var index = regexp.MustCompile(`(^|\.)\d+(\.|$)`)

func (p *params) get(key string) string {
	pat := key
	for index.MatchString(pat) {
		pat = index.ReplaceAllString(pat, "${1}N${2}")
	}
	if p.reads[p.action] == nil {
		p.reads[p.action] = map[string]bool{}
	}
	p.reads[p.action][pat] = true
	return p.v.Get(key)
}

// list returns the indexes 1..n for which prefix.i.probe (or prefix.i when probe is "") is set.
func (p *params) list(prefix, probe string) []string {
	var out []string
	for i := 1; ; i++ {
		key := prefix + "." + strconv.Itoa(i)
		if probe != "" {
			key += "." + probe
		}
		if p.get(key) == "" {
			return out
		}
		out = append(out, prefix+"."+strconv.Itoa(i))
	}
}

func (p *params) strings(prefix string) []string {
	var out []string
	for _, k := range p.list(prefix, "") {
		out = append(out, p.v.Get(k))
	}
	return out
}

func isTrue(s string) bool { return strings.EqualFold(s, "true") }
