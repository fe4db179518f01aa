package adosim_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/adosim"
)

// checkCall is what the check endpoint received.
type checkCall struct {
	header http.Header
	user   string
	pass   string
}

// checkEndpoint stands in for adofleet's check endpoint: it records each call and answers with
// the next status of statuses (200 once they run out).
type checkEndpoint struct {
	url   string
	calls chan checkCall

	mu       sync.Mutex
	statuses []int
}

func newCheckEndpoint(t *testing.T, statuses ...int) *checkEndpoint {
	t.Helper()
	ce := &checkEndpoint{calls: make(chan checkCall, 16), statuses: statuses}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		ce.calls <- checkCall{header: r.Header.Clone(), user: u, pass: p}
		ce.mu.Lock()
		code := http.StatusOK
		if len(ce.statuses) > 0 {
			code, ce.statuses = ce.statuses[0], ce.statuses[1:]
		}
		ce.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(srv.Close)
	ce.url = srv.URL + "/v1/checks/linux"
	return ce
}

// next waits for the next call; the bound only gives up, it asserts no duration.
func (ce *checkEndpoint) next(t *testing.T) checkCall {
	t.Helper()
	select {
	case c := <-ce.calls:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("the check endpoint was not called")
		return checkCall{}
	}
}

// eventually polls cond until it holds; the bound only gives up.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 2000 {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s", what)
}

// checkedPool starts a simulator with pool "linux" (one offline placeholder agent) checked by ce.
func checkedPool(t *testing.T, clock *manualClock, spec adosim.CheckSpec) (*env, int) {
	t.Helper()
	e := start(t, adosim.OrgOptions{Clock: clock}, adosim.ServerOptions{})
	poolID := e.addPool(t, "linux")
	if _, err := e.org.AddAgent("linux", adosim.AgentSpec{Name: "placeholder"}); err != nil {
		t.Fatal(err)
	}
	if spec.RetryDelay == 0 {
		spec.RetryDelay = time.Millisecond
	}
	if err := e.org.SetPoolCheck("linux", spec); err != nil {
		t.Fatalf("SetPoolCheck: %v", err)
	}
	return e, poolID
}

// completeCheck posts a TaskCompleted event to the check's plan as the check's callback does.
func (e *env) completeCheck(t *testing.T, planURL string, h http.Header, result string) {
	t.Helper()
	url := planURL + h.Get("ProjectId") + "/_apis/distributedtask/hubs/" + h.Get("HubName") + "/plans/" + h.Get("PlanId")
	ev := map[string]any{"name": "TaskCompleted", "taskId": h.Get("TaskInstanceId"), "jobId": h.Get("JobId"), "result": result}
	if r := call(t, "POST", url+"/events?api-version=7.1", h.Get("AuthToken"), ev); r.status != http.StatusNoContent {
		t.Fatalf("post TaskCompleted: got %d %s, want 204", r.status, r.body)
	}
}

func (e *env) checkLog(t *testing.T, planURL string, h http.Header, line string) {
	t.Helper()
	url := planURL + h.Get("ProjectId") + "/_apis/distributedtask/hubs/" + h.Get("HubName") + "/plans/" + h.Get("PlanId") + "/logs"
	var l struct {
		ID int `json:"id"`
	}
	mustJSONWith(t, h.Get("AuthToken"), http.StatusOK, "POST", url, map[string]any{"path": "logs\\check"}, &l)
	mustJSONWith(t, h.Get("AuthToken"), http.StatusOK, "POST", url+"/"+itoa(l.ID), line+"\n", nil)
}

func (e *env) listedRequests(t *testing.T, poolID int) []int64 {
	t.Helper()
	var list collection[jobJSON]
	mustJSON(t, http.StatusOK, "GET", e.poolURL(poolID)+"/jobrequests", nil, &list)
	var ids []int64
	for _, j := range list.Value {
		ids = append(ids, j.RequestID)
	}
	return ids
}

func TestCheckPassesThenJobRuns(t *testing.T) {
	t.Parallel()
	ce := newCheckEndpoint(t)
	clock := newManualClock()
	e, poolID := checkedPool(t, clock, adosim.CheckSpec{URL: ce.url, Username: "svc", Password: "pw", Timeout: time.Hour})

	id := e.queue(t, "linux", adosim.JobSpec{Duration: time.Millisecond})
	c := ce.next(t)
	if c.user != "svc" || c.pass != "pw" {
		t.Errorf("check call credentials: got %q/%q, want svc/pw", c.user, c.pass)
	}
	j := e.job(t, id)
	want := map[string]string{
		"PlanUrl": e.url + "/", "HubName": "checks", "PlanId": j.CheckPlanID,
		"ProjectId": e.org.ProjectID(e.org.DefaultProject()),
	}
	for k, v := range want {
		if got := c.header.Get(k); got != v {
			t.Errorf("header %s: got %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"JobId", "TimelineId", "TaskInstanceId", "AuthToken"} {
		if c.header.Get(k) == "" {
			t.Errorf("header %s is empty", k)
		}
	}
	if j.State != adosim.JobWaitingForChecks {
		t.Errorf("state before the callback: got %s, want %s", j.State, adosim.JobWaitingForChecks)
	}
	if got := e.listedRequests(t, poolID); len(got) != 0 {
		t.Errorf("job requests while the check waits: got %v, want none", got)
	}
	if r := call(t, "GET", e.poolURL(poolID)+"/jobrequests/"+itoa(int(id)), testPAT, nil); r.status != http.StatusNotFound {
		t.Errorf("GET the waiting job request: got %d, want 404", r.status)
	}

	clock.Advance(time.Minute)
	released := clock.Now()
	e.completeCheck(t, e.url+"/", c.header, "succeeded")
	j = e.job(t, id)
	if j.State != adosim.JobQueued || !j.QueueTime.Equal(released) {
		t.Errorf("after the callback: got state %s queued %v, want queued at %v", j.State, j.QueueTime, released)
	}
	if diff := cmp.Diff([]int64{id}, e.listedRequests(t, poolID)); diff != "" {
		t.Errorf("job requests after the callback (-want +got):\n%s", diff)
	}

	a := e.connect(t, poolID, "jit-1", nil)
	jm := a.poll()
	if jm == nil || jm.RequestID != id {
		t.Fatalf("agent got %+v, want request %d", jm, id)
	}
	if r := a.finish(jm, "succeeded"); r.status != http.StatusOK {
		t.Fatalf("finish: got %d %s", r.status, r.body)
	}

	// A second callback is recorded and changes nothing.
	e.completeCheck(t, e.url+"/", c.header, "failed")
	eventually(t, "the check call to be counted", func() bool { return e.job(t, id).CheckCalls > 0 })
	j = e.job(t, id)
	if j.Result != "succeeded" || j.Starts != 1 || j.CheckCalls != 1 {
		t.Errorf("job: got result %q starts %d check calls %d, want succeeded 1 1", j.Result, j.Starts, j.CheckCalls)
	}
	p, _ := e.org.Plan(j.CheckPlanID)
	if p.TaskCompleted != 2 || p.CheckRequestID != id {
		t.Errorf("plan: got %d TaskCompleted for request %d, want 2 for %d", p.TaskCompleted, p.CheckRequestID, id)
	}
}

func TestCheckFailedOrTimedOutFailsTheJob(t *testing.T) {
	t.Parallel()
	testCheckFailureFailsTheJob(t, 10*time.Minute, "no agent came online",
		func(t *testing.T, clock *manualClock, spec adosim.CheckSpec) (*env, int, int64) {
			e, poolID := checkedPool(t, clock, spec)
			return e, poolID, e.queue(t, "linux", adosim.JobSpec{})
		})
}

// testCheckFailureFailsTheJob queues a job held by a check (setup builds the pool, its check from
// spec, and queues the job) and fails the check, by a failed callback giving reason or by letting
// timeout pass: the job must finish failed with that message, and a late success changes nothing.
func testCheckFailureFailsTheJob(t *testing.T, timeout time.Duration, reason string,
	setup func(t *testing.T, clock *manualClock, spec adosim.CheckSpec) (e *env, poolID int, jobID int64)) {
	t.Helper()
	tests := []struct {
		name    string
		act     func(t *testing.T, e *env, clock *manualClock, h http.Header)
		wantMsg string
	}{
		{"failed callback", func(t *testing.T, e *env, _ *manualClock, h http.Header) {
			e.checkLog(t, e.url+"/", h, "adofleet: failing the check: "+reason)
			e.completeCheck(t, e.url+"/", h, "failed")
		}, "check failed: result failed: adofleet: failing the check: " + reason},
		{"timeout", func(_ *testing.T, _ *env, clock *manualClock, _ http.Header) {
			clock.Advance(timeout)
		}, adosim.CheckTimedOutMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ce := newCheckEndpoint(t)
			clock := newManualClock()
			e, poolID, id := setup(t, clock, adosim.CheckSpec{URL: ce.url, SharedSecret: "s", SecretHeader: "X-Secret", Timeout: timeout})
			c := ce.next(t)
			if got := c.header.Get("X-Secret"); got != "s" {
				t.Errorf("shared secret header: got %q, want %q", got, "s")
			}
			clock.Advance(time.Second)
			tt.act(t, e, clock, c.header)
			j := e.job(t, id)
			if j.State != adosim.JobFinished || j.Result != "failed" || j.StatusMessage != tt.wantMsg {
				t.Errorf("job: got %s %q %q, want finished failed %q", j.State, j.Result, j.StatusMessage, tt.wantMsg)
			}
			// A late success changes nothing.
			e.completeCheck(t, e.url+"/", c.header, "succeeded")
			if j2 := e.job(t, id); j2.Result != "failed" || j2.State != adosim.JobFinished {
				t.Errorf("after a late success: got %s %q, want finished failed", j2.State, j2.Result)
			}
			if got := e.listedRequests(t, poolID); len(got) != 1 {
				t.Errorf("job requests: got %v, want the one failed job", got)
			}
		})
	}
}

func TestCheckCallRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		statuses  []int
		wantCalls int
		wantState adosim.JobState
		wantMsg   string
	}{
		{"succeeds on the third attempt", []int{500, 503}, 3, adosim.JobWaitingForChecks, ""},
		{"every attempt refused", []int{401, 401, 401}, 3, adosim.JobFinished, "check failed: the call to the check URL failed 3 times: POST check URL: status 401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ce := newCheckEndpoint(t, tt.statuses...)
			e, _ := checkedPool(t, newManualClock(), adosim.CheckSpec{URL: ce.url, Username: "u", Password: "p"})
			id := e.queue(t, "linux", adosim.JobSpec{})
			for range tt.wantCalls {
				ce.next(t)
			}
			eventually(t, "the calls to be recorded", func() bool {
				j := e.job(t, id)
				return j.CheckCalls == tt.wantCalls && j.State == tt.wantState
			})
			if j := e.job(t, id); j.StatusMessage != tt.wantMsg {
				t.Errorf("status message: got %q, want %q", j.StatusMessage, tt.wantMsg)
			}
			select {
			case <-ce.calls:
				t.Error("the check was called again after the attempts")
			default:
			}
		})
	}
}

func TestSetPoolCheckValidates(t *testing.T) {
	t.Parallel()
	org := adosim.NewOrg(adosim.OrgOptions{Seed: 1})
	if _, err := org.AddPool("linux"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		pool string
		spec adosim.CheckSpec
		want string
	}{
		{"no URL", "linux", adosim.CheckSpec{}, "URL is required"},
		{"user without password", "linux", adosim.CheckSpec{URL: "http://x", Username: "u"}, "go together"},
		{"secret without header", "linux", adosim.CheckSpec{URL: "http://x", SharedSecret: "s"}, "needs SecretHeader"},
		{"unknown pool", "nope", adosim.CheckSpec{URL: "http://x"}, "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := org.SetPoolCheck(tt.pool, tt.spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestUncheckedPoolIsUnchanged(t *testing.T) {
	t.Parallel()
	ce := newCheckEndpoint(t)
	e, _ := checkedPool(t, newManualClock(), adosim.CheckSpec{URL: ce.url})
	e.addPool(t, "windows")
	if _, err := e.org.AddAgent("windows", adosim.AgentSpec{Name: "placeholder"}); err != nil {
		t.Fatal(err)
	}
	j := e.job(t, e.queue(t, "windows", adosim.JobSpec{}))
	if j.State != adosim.JobQueued || j.CheckPlanID != "" {
		t.Errorf("job in a pool without a check: got %s plan %q, want queued, no check", j.State, j.CheckPlanID)
	}
	e.org.ClearPoolCheck("linux")
	if j := e.job(t, e.queue(t, "linux", adosim.JobSpec{})); j.State != adosim.JobQueued {
		t.Errorf("job after ClearPoolCheck: got %s, want queued", j.State)
	}
	select {
	case <-ce.calls:
		t.Error("a pool without a check called the check")
	default:
	}
}
