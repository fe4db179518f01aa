// Package ecsfake is a protocol-level fake of Amazon ECS for tests: an HTTP server speaking the AWS
// JSON 1.1 protocol (X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Operation>) for the few
// operations adofleet uses (RunTask, StopTask, ListTasks, DescribeTasks, DescribeTaskDefinition),
// so that tests run the real aws-sdk-go-v2 client, serializers and retryer against it.
//
// Tasks live in memory. RunTask is idempotent per clientToken. Faults can be injected: throttling
// with the real ThrottlingException code, RunTask `failures` entries, and tasks that stop on their
// own with a stop code and reason (e.g. CannotPullContainerError). Every call is recorded.
package ecsfake

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// TargetPrefix is the X-Amz-Target prefix of ECS operations.
const TargetPrefix = "AmazonEC2ContainerServiceV20141113."

// Task statuses (lastStatus and desiredStatus).
const (
	StatusProvisioning = "PROVISIONING"
	StatusPending      = "PENDING"
	StatusRunning      = "RUNNING"
	StatusStopping     = "STOPPING"
	StatusStopped      = "STOPPED"
)

// Options configure a Fake.
type Options struct {
	// Region and Account build ARNs. Defaults: us-east-1, 123456789012.
	Region, Account string
	// Clusters the fake knows; a call naming another gets ClusterNotFoundException. Default: "default".
	Clusters []string
	// InitialStatus is the lastStatus of a new task. Default RUNNING.
	InitialStatus string
	// PageSize is ListTasks' default and maximum page size. Default 100, as ECS.
	PageSize int
	// Clock stamps tasks. Default time.Now.
	Clock func() time.Time
}

// Container is a container definition of a registered task definition.
type Container struct {
	Name    string
	Secrets map[string]string // environment variable name -> valueFrom
}

// Task is the fake's view of one task.
type Task struct {
	ARN, Cluster, TaskDefinitionARN string
	LastStatus, DesiredStatus       string
	StartedBy, Group, ClientToken   string
	LaunchType, CapacityProvider    string
	CPU, Memory                     string
	StopCode, StoppedReason         string
	// ContainerReason and ExitCode describe the essential container once stopped.
	ContainerReason string
	ExitCode        *int
	Tags            map[string]string
	// Env is each container override's environment, by container name.
	Env         map[string]map[string]string
	Subnets     []string
	PublicIP    string
	CreatedAt   time.Time
	StoppedAt   time.Time
	taskDefName string
}

// Call is one recorded request.
type Call struct {
	Op        string
	Body      []byte // the request's JSON
	Throttled bool
}

// Fake is the server. Its exported hook fields must be set before the first request.
type Fake struct {
	URL string

	// OnRunTask, when set, is called (outside the fake's lock) with each task RunTask creates,
	// e.g. to start a simulated agent from its environment.
	OnRunTask func(Task)
	// OnStopTask, when set, is called with each task StopTask stops.
	OnStopTask func(Task)

	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	tasks    map[string]*Task
	order    []string            // task ARNs in creation order
	tokens   map[string][]string // clientToken -> task ARNs
	taskDefs map[string]taskDefinition
	calls    []Call
	throttle int
	runFails func(Task) string
	seq      int
}

// New starts a fake. Close it when done.
func New(opts Options) *Fake {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Account == "" {
		opts.Account = "123456789012"
	}
	if len(opts.Clusters) == 0 {
		opts.Clusters = []string{"default"}
	}
	if opts.InitialStatus == "" {
		opts.InitialStatus = StatusRunning
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	f := &Fake{
		opts:     opts,
		tasks:    map[string]*Task{},
		tokens:   map[string][]string{},
		taskDefs: map[string]taskDefinition{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.URL = f.srv.URL
	return f
}

// Close stops the server.
func (f *Fake) Close() { f.srv.Close() }

// RegisterTaskDefinition adds revision 1 (or the next) of family and returns its ARN.
func (f *Fake) RegisterTaskDefinition(family string, containers ...Container) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	rev := 1
	for _, td := range f.taskDefs {
		if td.Family == family && td.Revision >= rev {
			rev = td.Revision + 1
		}
	}
	td := taskDefinition{
		TaskDefinitionArn: fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", f.opts.Region, f.opts.Account, family, rev),
		Family:            family,
		Revision:          rev,
	}
	for _, c := range containers {
		cd := containerDefinition{Name: c.Name, Image: "adofleet/agent:test"}
		for _, name := range slices.Sorted(maps.Keys(c.Secrets)) {
			cd.Secrets = append(cd.Secrets, secret{Name: name, ValueFrom: c.Secrets[name]})
		}
		td.ContainerDefinitions = append(td.ContainerDefinitions, cd)
	}
	f.taskDefs[td.TaskDefinitionArn] = td
	return td.TaskDefinitionArn
}

// ThrottleNext makes the next n calls (of any operation) fail with ThrottlingException.
func (f *Fake) ThrottleNext(n int) {
	f.mu.Lock()
	f.throttle = n
	f.mu.Unlock()
}

// FailRunTask sets a function that decides, for each task RunTask is about to create, a failure
// reason (e.g. "RESOURCE:MEMORY", "Capacity is unavailable at this time"); "" lets it start. The
// failure comes back in RunTask's `failures` list, as ECS reports it, not as an error.
func (f *Fake) FailRunTask(fn func(Task) string) {
	f.mu.Lock()
	f.runFails = fn
	f.mu.Unlock()
}

// StopOnItsOwn stops a task as ECS would when it fails or its essential container exits:
// stopCode (e.g. TaskFailedToStart, EssentialContainerExited), stoppedReason, and the container's
// reason (e.g. "CannotPullContainerError: ...") and exit code.
func (f *Fake) StopOnItsOwn(arn, stopCode, stoppedReason, containerReason string, exitCode *int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tasks[arn]
	if !ok {
		return fmt.Errorf("ecsfake: no task %s", arn)
	}
	f.stopLocked(t, stopCode, stoppedReason)
	t.ContainerReason, t.ExitCode = containerReason, exitCode
	return nil
}

// SetLastStatus moves a task to status (e.g. PROVISIONING, DEACTIVATING) without stopping it.
func (f *Fake) SetLastStatus(arn, status string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tasks[arn]
	if !ok {
		return fmt.Errorf("ecsfake: no task %s", arn)
	}
	t.LastStatus = status
	return nil
}

// Tasks returns every task, in creation order.
func (f *Fake) Tasks() []Task {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Task, 0, len(f.order))
	for _, arn := range f.order {
		out = append(out, f.tasks[arn].clone())
	}
	return out
}

// Task returns one task.
func (f *Fake) Task(arn string) (Task, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tasks[arn]
	if !ok {
		return Task{}, false
	}
	return t.clone(), true
}

// Calls returns the recorded calls of op ("" for all), oldest first.
func (f *Fake) Calls(op string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if op == "" || c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

func (t *Task) clone() Task {
	out := *t
	out.Tags = maps.Clone(t.Tags)
	out.Env = make(map[string]map[string]string, len(t.Env))
	for k, v := range t.Env {
		out.Env[k] = maps.Clone(v)
	}
	out.Subnets = slices.Clone(t.Subnets)
	return out
}

// apiError is an error response of the JSON protocol.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func clientErr(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, msg: fmt.Sprintf(format, args...)}
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	body, err := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || !ok || err != nil {
		writeError(w, clientErr("UnknownOperationException", "bad request to the ECS fake"))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		writeError(w, clientErr("SerializationException", "content type %q, want application/x-amz-json-1.1", ct))
		return
	}
	f.mu.Lock()
	throttled := f.throttle > 0
	if throttled {
		f.throttle--
	}
	f.calls = append(f.calls, Call{Op: op, Body: body, Throttled: throttled})
	f.mu.Unlock()
	if throttled {
		writeError(w, clientErr("ThrottlingException", "Rate exceeded"))
		return
	}

	var out any
	var aerr *apiError
	switch op {
	case "RunTask":
		out, aerr = decodeAnd(body, f.runTask)
	case "StopTask":
		out, aerr = decodeAnd(body, f.stopTask)
	case "ListTasks":
		out, aerr = decodeAnd(body, f.listTasks)
	case "DescribeTasks":
		out, aerr = decodeAnd(body, f.describeTasks)
	case "DescribeTaskDefinition":
		out, aerr = decodeAnd(body, f.describeTaskDefinition)
	default:
		aerr = clientErr("UnknownOperationException", "operation %s is not faked", op)
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

// decodeAnd decodes the request strictly: a member the fake does not know is an error, so the
// provider cannot send something the fake silently ignores.
func decodeAnd[In, Out any](body []byte, fn func(In) (Out, *apiError)) (any, *apiError) {
	var in In
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, clientErr("SerializationException", "decode request: %v", err)
	}
	return fn(in)
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.code)
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(errorResponse{Type: e.code, Message: e.msg})
}
