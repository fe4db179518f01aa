// Package ec2fake is an httptest server speaking the EC2 Query protocol (form-encoded
// Action=..., XML responses in the 2016-11-15 namespace, errors as
// <Response><Errors><Error><Code>) for the few operations the EC2 provider uses: RunInstances,
// DescribeInstances (with filters and pagination), TerminateInstances and CreateTags.
//
// It records every call, is idempotent by ClientToken like EC2, and can be told to fail:
// capacity errors for spot or one instance type, or throttling with RequestLimitExceeded.
// Hooks (SetHooks) let a test play the instances' operating system, e.g. run an agent on each.
package ec2fake

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/provider/ec2/internal/queryfake"
)

// Namespace is the XML namespace of EC2 API version 2016-11-15.
const Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

// Call is one request the fake received.
type Call = queryfake.Call

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
	rec       queryfake.Recorder
	faults    []*Fault
	nextID    int
	hooks     Hooks
	pending   []func() // hooks queued by the request being answered
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
	}
	s.srv = httptest.NewServer(s.withHooks(dialect.Handler(&s.mu, &s.rec, s.dispatch)))
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
	return s.rec.Calls(action)
}

// ParamsRead returns, by action, the parameter patterns ("Filter.N.Value.N") the fake has read,
// for checking against the AWS model.
func (s *Server) ParamsRead() map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rec.ParamsRead()
}

// dispatch answers one action; the caller holds s.mu.
func (s *Server) dispatch(action string, q *queryfake.Params) (any, *queryfake.Error) {
	switch action {
	case "RunInstances":
		return s.runInstances(q)
	case "DescribeInstances":
		return s.describeInstances(q)
	case "TerminateInstances":
		return s.terminateInstances(q)
	case "CreateTags":
		return s.createTags(q)
	}
	return nil, &queryfake.Error{Code: "InvalidAction", Message: fmt.Sprintf("The action %s is not valid for this web service.", action)}
}

// fault returns the first live fault matching the request, consuming one of its calls.
func (s *Server) fault(action string, match func(*Fault) bool) *queryfake.Error {
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
		status := f.Status
		if status == 0 && f.Code == "RequestLimitExceeded" {
			status = http.StatusServiceUnavailable
		}
		return &queryfake.Error{Code: f.Code, Message: f.Message, Status: status}
	}
	return nil
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

var dialect = queryfake.Dialect{
	ContentType:   "text/xml;charset=UTF-8",
	MalformedCode: "MalformedQueryString",
	InternalCode:  "InternalError",
	ErrorDoc: func(code, msg string) any {
		return errorResponse{Errors: []errorItem{{code, msg}}, RequestID: "fake-request"}
	},
}

func isTrue(s string) bool { return strings.EqualFold(s, "true") }
