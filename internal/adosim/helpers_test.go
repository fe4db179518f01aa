package adosim_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/testclock"
)

const testPAT = "test-pat-secret"

// manualClock is a Clock tests move by hand (the name this package's tests know it by).
type manualClock = testclock.Manual

func newManualClock() *manualClock {
	return testclock.NewManual(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
}

type env struct {
	org *adosim.Org
	srv *adosim.Server
	url string // org URL
}

// start runs a simulator on loopback for the test.
func start(t *testing.T, orgOpts adosim.OrgOptions, opts adosim.ServerOptions) *env {
	t.Helper()
	if opts.PAT == "" {
		opts.PAT = testPAT
	}
	if opts.MessagePollTimeout == 0 {
		opts.MessagePollTimeout = 200 * time.Millisecond
	}
	if orgOpts.Seed == 0 {
		orgOpts.Seed = 42
	}
	org := adosim.NewOrg(orgOpts)
	srv := adosim.NewServer(org, opts)
	run, err := srv.Start("")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = run.Close() })
	return &env{org: org, srv: srv, url: run.URL}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// call sends one request with Basic auth (password = token; "" sends no credential).
func call(t *testing.T, method, url, token string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			data, err := json.Marshal(body)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			rd = bytes.NewReader(data)
		}
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	if token != "" {
		req.SetBasicAuth("user", token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// mustJSON calls and decodes a JSON answer with the wanted status.
func mustJSON(t *testing.T, want int, method, url string, body, out any) {
	t.Helper()
	r := call(t, method, url, testPAT, body)
	if r.status != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, url, r.status, want, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, url, r.body, err)
		}
	}
}

type collection[T any] struct {
	Count int `json:"count"`
	Value []T `json:"value"`
}

type agentJSON struct {
	ID                 int               `json:"id"`
	Name               string            `json:"name"`
	Enabled            bool              `json:"enabled"`
	Status             string            `json:"status"`
	SystemCapabilities map[string]string `json:"systemCapabilities"`
	UserCapabilities   map[string]string `json:"userCapabilities"`
	AssignedRequest    *jobJSON          `json:"assignedRequest"`
	LastCompleted      *jobJSON          `json:"lastCompletedRequest"`
}

type agentRefJSON struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

type jobJSON struct {
	RequestID     int64           `json:"requestId"`
	Result        *string         `json:"result"`
	ReceiveTime   *time.Time      `json:"receiveTime"`
	Demands       []string        `json:"demands"`
	MatchedAgents *[]agentRefJSON `json:"matchedAgents"`
	ReservedAgent *agentRefJSON   `json:"reservedAgent"`
	LockedUntil   *time.Time      `json:"lockedUntil"`
}

type messageJSON struct {
	MessageID   int64  `json:"messageId"`
	MessageType string `json:"messageType"`
	Body        string `json:"body"`
}

// protoAgent drives the agent protocol by hand, one call at a time.
type protoAgent struct {
	t       *testing.T
	url     string
	poolID  int
	id      int
	session string
	last    int64
}

func (e *env) poolURL(poolID int) string {
	return e.url + "/_apis/distributedtask/pools/" + itoa(poolID)
}

func itoa(n int) string { return strconv.Itoa(n) }

func (e *env) addPool(t *testing.T, name string) int {
	t.Helper()
	id, err := e.org.AddPool(name)
	if err != nil {
		t.Fatalf("AddPool(%q): %v", name, err)
	}
	return id
}

// register adds an agent over HTTP (offline).
func (e *env) register(t *testing.T, poolID int, name string, caps map[string]string) *protoAgent {
	t.Helper()
	var a agentJSON
	mustJSON(t, http.StatusOK, "POST", e.poolURL(poolID)+"/agents?api-version=7.1",
		map[string]any{"name": name, "version": "4.255.0", "systemCapabilities": caps}, &a)
	return &protoAgent{t: t, url: e.poolURL(poolID), poolID: poolID, id: a.ID}
}

// connect registers an agent and opens its session (online).
func (e *env) connect(t *testing.T, poolID int, name string, caps map[string]string) *protoAgent {
	t.Helper()
	a := e.register(t, poolID, name, caps)
	a.openSession()
	return a
}

func (a *protoAgent) openSession() {
	a.t.Helper()
	var s struct {
		SessionID string `json:"sessionId"`
	}
	mustJSON(a.t, http.StatusOK, "POST", a.url+"/sessions?api-version=7.1",
		map[string]any{"ownerName": "test", "agent": map[string]any{"id": a.id}}, &s)
	a.session = s.SessionID
}

func (a *protoAgent) closeSession() {
	a.t.Helper()
	mustJSON(a.t, http.StatusNoContent, "DELETE", a.url+"/sessions/"+a.session, nil, nil)
}

// poll does one GET messages; nil means the poll ended with nothing (202).
func (a *protoAgent) poll() *adosim.JobMessage {
	a.t.Helper()
	r := call(a.t, "GET", a.url+"/messages?sessionId="+a.session+"&lastMessageId="+itoa(int(a.last)), testPAT, nil)
	if r.status == http.StatusAccepted {
		return nil
	}
	if r.status != http.StatusOK {
		a.t.Fatalf("GET messages: status %d: %s", r.status, r.body)
	}
	var m messageJSON
	if err := json.Unmarshal(r.body, &m); err != nil {
		a.t.Fatalf("decode message: %v", err)
	}
	if m.MessageType != adosim.JobMessageType {
		a.t.Fatalf("messageType = %q, want %q", m.MessageType, adosim.JobMessageType)
	}
	var jm adosim.JobMessage
	if err := json.Unmarshal([]byte(m.Body), &jm); err != nil {
		a.t.Fatalf("decode job message: %v", err)
	}
	a.last = m.MessageID
	mustJSON(a.t, http.StatusNoContent, "DELETE", a.url+"/messages/"+itoa(int(m.MessageID))+"?sessionId="+a.session, nil, nil)
	return &jm
}

func (a *protoAgent) finish(jm *adosim.JobMessage, result string) response {
	a.t.Helper()
	return call(a.t, "PATCH", a.url+"/jobrequests/"+itoa(int(jm.RequestID))+"?lockToken="+jm.LockToken, testPAT,
		map[string]any{"requestId": jm.RequestID, "result": result, "finishTime": time.Now().UTC()})
}

func (e *env) queue(t *testing.T, pool string, spec adosim.JobSpec) int64 {
	t.Helper()
	id, err := e.org.QueueJob(pool, spec)
	if err != nil {
		t.Fatalf("QueueJob: %v", err)
	}
	return id
}

func (e *env) job(t *testing.T, id int64) adosim.JobInfo {
	t.Helper()
	j, ok := e.org.Job(id)
	if !ok {
		t.Fatalf("job %d not found", id)
	}
	return j
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
