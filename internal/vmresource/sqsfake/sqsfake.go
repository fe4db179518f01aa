// Package sqsfake is an httptest server speaking the SQS wire protocol the AWS SDK for Go v2
// uses (AWS JSON 1.0: POST /, X-Amz-Target: AmazonSQS.<Operation>, errors as {"__type", "message"}
// with the query-compatible X-Amzn-Query-Error header) for the operations adofleet's lifecycle
// consumer makes: SendMessage, ReceiveMessage (visibility timeout, ApproximateReceiveCount, long
// poll), DeleteMessage, DeleteMessageBatch, ChangeMessageVisibility and GetQueueUrl. Standard
// queues only. Its clock is injectable (Options.Now with Clock), so visibility timeouts and
// backoffs pass in virtual time; a long poll waits in real time for at most Options.LongPollLimit.
package sqsfake

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Account is the account id in queue URLs.
const Account = "123456789012"

// Options configure a fake.
type Options struct {
	// Now is the fake's clock (default time.Now). With a Clock, call Server.Wake after Advance.
	Now func() time.Time
	// LongPollLimit bounds, in real time, how long a ReceiveMessage with WaitTimeSeconds waits
	// for a message (default 100ms), so a test never sits through a 20-second poll.
	LongPollLimit time.Duration
	// DefaultVisibility is a queue's visibility timeout when ReceiveMessage names none (30s).
	DefaultVisibility time.Duration
}

// Server is the fake.
type Server struct {
	URL string
	o   Options

	mu      sync.Mutex
	queues  map[string]*queue // by name
	changed chan struct{}
	calls   map[string]int
	faults  map[string]int
	nextID  int
}

type queue struct {
	name string
	msgs []*message // in send order; deleted ones removed
}

// Attribute is a message attribute (DataType String, Number or Binary).
type Attribute struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue,omitempty"`
	BinaryValue []byte `json:"BinaryValue,omitempty"`
}

type message struct {
	id, body     string
	attrs        map[string]Attribute
	sent         time.Time
	visibleAt    time.Time
	receives     int
	firstReceive time.Time
	handle       string // the latest receipt handle; "" until received
	handles      int
	backoff      bool // its visibility was changed since it was last received
}

// Message is a queue message as Messages returns it.
type Message struct {
	ID           string
	Body         string
	Attributes   map[string]Attribute
	ReceiveCount int
	Visible      bool
	// BackingOff: invisible because ChangeMessageVisibility was called after its last receive
	// (a consumer's backoff), rather than because it is being handled.
	BackingOff bool
}

// New starts a fake, closed at the end of tb.
func New(tb testing.TB, o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LongPollLimit <= 0 {
		o.LongPollLimit = 100 * time.Millisecond
	}
	if o.DefaultVisibility <= 0 {
		o.DefaultVisibility = 30 * time.Second
	}
	s := &Server{o: o, queues: map[string]*queue{}, changed: make(chan struct{}), calls: map[string]int{}, faults: map[string]int{}}
	srv := httptest.NewServer(s)
	tb.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Client returns a real SDK client for the fake (static credentials, no retry delay).
func (s *Server) Client() *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", ""),
		Retryer:      aws.NopRetryer{},
	})
}

// CreateQueue creates a standard queue (if new) and returns its URL.
func (s *Server) CreateQueue(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queues[name] == nil {
		s.queues[name] = &queue{name: name}
	}
	return s.queueURL(name)
}

func (s *Server) queueURL(name string) string { return s.URL + "/" + Account + "/" + name }

// Wake makes waiting long polls look again (after the injected clock moved).
func (s *Server) Wake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wakeLocked()
}

func (s *Server) wakeLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Messages returns the queue's messages, in send order.
func (s *Server) Messages(name string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[name]
	if q == nil {
		return nil
	}
	now := s.o.Now()
	out := make([]Message, 0, len(q.msgs))
	for _, m := range q.msgs {
		out = append(out, Message{ID: m.id, Body: m.body, Attributes: m.attrs, ReceiveCount: m.receives, Visible: !now.Before(m.visibleAt),
			BackingOff: m.backoff && now.Before(m.visibleAt)})
	}
	return out
}

// Fail makes the next n calls of op fail with a 500 InternalFailure.
func (s *Server) Fail(op string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] += n
}

// Calls returns how many times op was called.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// apiError is an error answer: the JSON __type (the model's shape name) and the query-compatible
// code (the model's error code) with its fault.
type apiError struct {
	status    int
	shape     string
	queryCode string
	fault     string // Sender or Receiver
	msg       string
}

func errInvalid(format string, args ...any) *apiError {
	return &apiError{400, "InvalidParameterValue", "InvalidParameterValue", "Sender", fmt.Sprintf(format, args...)}
}

func errNoQueue() *apiError {
	return &apiError{400, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "Sender", "The specified queue does not exist."}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	if r.Method != http.MethodPost || !ok {
		writeError(w, &apiError{400, "UnknownOperationException", "UnknownOperationException", "Sender", "missing or unknown X-Amz-Target"})
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
		writeError(w, errInvalid("Content-Type %q is not application/x-amz-json-1.0", ct))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, errInvalid("read body: %v", err))
		return
	}
	s.mu.Lock()
	s.calls[op]++
	if s.faults[op] > 0 {
		s.faults[op]--
		s.mu.Unlock()
		writeError(w, &apiError{500, "InternalError", "InternalError", "Receiver", "injected failure"})
		return
	}
	s.mu.Unlock()
	var out any
	var aerr *apiError
	switch op {
	case "SendMessage":
		out, aerr = s.sendMessage(body)
	case "ReceiveMessage":
		out, aerr = s.receiveMessage(r, body)
	case "DeleteMessage":
		out, aerr = s.deleteMessage(body)
	case "DeleteMessageBatch":
		out, aerr = s.deleteMessageBatch(body)
	case "ChangeMessageVisibility":
		out, aerr = s.changeVisibility(body)
	case "GetQueueUrl":
		out, aerr = s.getQueueURL(body)
	default:
		aerr = &apiError{400, "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", "Sender", "operation " + op + " is not faked"}
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(out)
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Query-Error", e.queryCode+";"+e.fault)
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + e.shape, "message": e.msg})
}

// decode reads a request strictly: a member the fake does not know is an error, so a request
// shape the SDK changed is noticed rather than half-read.
func decode(body []byte, v any) *apiError {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errInvalid("malformed request: %v", err)
	}
	return nil
}

// queueLocked resolves a queue URL of this fake.
func (s *Server) queueLocked(url string) (*queue, *apiError) {
	name, ok := strings.CutPrefix(url, s.URL+"/"+Account+"/")
	if !ok || s.queues[name] == nil {
		return nil, errNoQueue()
	}
	return s.queues[name], nil
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
