package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
)

// inProcess serves requests by calling the handler directly: the wire contract (JSON, status
// codes, routes) is exercised without sockets, and a 10,000-job trace stays fast.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil {
		req.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}

// agentState is where a simulated agent is.
type agentState int

const (
	agentBooting agentState = iota
	agentIdle               // online, no job
	agentBusy               // running a job
	agentGone               // its process ended
)

// simAgent is the agent process on one instance. It makes the calls the Azure Pipelines agent
// makes (register, session, message, job request update) over ADO's wire contract.
type simAgent struct {
	name      string
	pool      string
	inst      *instance
	state     agentState
	id        int
	sessionID string
	job       int64 // request id while busy
	lockToken string
	jobIdx    int // trace index of the job it runs
}

// agentAPI is the simulated agents' HTTP client.
type agentAPI struct {
	base   string // org URL
	token  string
	client *http.Client
}

func (c *agentAPI) call(ctx context.Context, method, path string, q url.Values, in, out any) error {
	if q == nil {
		q = url.Values{}
	}
	q.Set("api-version", "7.1")
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: encode: %w", method, path, err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path+"?"+q.Encode(), body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.SetBasicAuth("", c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
	}
	if out != nil && resp.StatusCode == http.StatusOK && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

func poolPath(poolID int, rest string) string {
	return "/_apis/distributedtask/pools/" + strconv.Itoa(poolID) + rest
}

type agentRef struct {
	ID      int    `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version"`
	Enabled bool   `json:"enabled"`
}

// register adds the agent with caps and opens its session: it is online.
func (c *agentAPI) register(ctx context.Context, poolID int, a *simAgent, caps map[string]string) error {
	in := map[string]any{
		"name": a.name, "version": adosim.SimAgentVersion, "enabled": true, "maxParallelism": 1,
		"provisioningState": "Provisioned", "systemCapabilities": caps,
	}
	var got agentRef
	if err := c.call(ctx, http.MethodPost, poolPath(poolID, "/agents"), nil, in, &got); err != nil {
		return fmt.Errorf("register agent %q: %w", a.name, err)
	}
	a.id = got.ID
	var sess struct {
		SessionID string `json:"sessionId"`
	}
	sin := map[string]any{"ownerName": a.name, "agent": agentRef{ID: a.id, Name: a.name, Version: adosim.SimAgentVersion, Enabled: true}}
	if err := c.call(ctx, http.MethodPost, poolPath(poolID, "/sessions"), nil, sin, &sess); err != nil {
		return fmt.Errorf("open session of agent %q: %w", a.name, err)
	}
	a.sessionID = sess.SessionID
	return nil
}

// receive fetches and acknowledges the job message the Org queued for the agent.
func (c *agentAPI) receive(ctx context.Context, poolID int, a *simAgent) (adosim.JobMessage, error) {
	var msg struct {
		MessageID   int64  `json:"messageId"`
		MessageType string `json:"messageType"`
		Body        string `json:"body"`
	}
	q := url.Values{"sessionId": {a.sessionID}}
	if err := c.call(ctx, http.MethodGet, poolPath(poolID, "/messages"), q, nil, &msg); err != nil {
		return adosim.JobMessage{}, fmt.Errorf("agent %q: get message: %w", a.name, err)
	}
	if msg.MessageType != adosim.JobMessageType {
		return adosim.JobMessage{}, fmt.Errorf("agent %q: get message: got type %q, want a job", a.name, msg.MessageType)
	}
	var jm adosim.JobMessage
	if err := json.Unmarshal([]byte(msg.Body), &jm); err != nil {
		return jm, fmt.Errorf("agent %q: decode job message: %w", a.name, err)
	}
	del := url.Values{"sessionId": {a.sessionID}}
	if err := c.call(ctx, http.MethodDelete, poolPath(poolID, "/messages/"+strconv.FormatInt(msg.MessageID, 10)), del, nil, nil); err != nil {
		return jm, fmt.Errorf("agent %q: acknowledge message: %w", a.name, err)
	}
	return jm, nil
}

// finish ends the agent's job with result.
func (c *agentAPI) finish(ctx context.Context, poolID int, a *simAgent, result string, at time.Time) error {
	in := map[string]any{"requestId": a.job, "result": result, "finishTime": at}
	q := url.Values{"lockToken": {a.lockToken}}
	if err := c.call(ctx, http.MethodPatch, poolPath(poolID, "/jobrequests/"+strconv.FormatInt(a.job, 10)), q, in, nil); err != nil {
		return fmt.Errorf("agent %q: finish job %d: %w", a.name, a.job, err)
	}
	return nil
}

// closeSession takes the agent offline.
func (c *agentAPI) closeSession(ctx context.Context, poolID int, a *simAgent) error {
	if a.sessionID == "" {
		return nil
	}
	err := c.call(ctx, http.MethodDelete, poolPath(poolID, "/sessions/"+url.PathEscape(a.sessionID)), nil, nil, nil)
	a.sessionID = ""
	if err != nil {
		return fmt.Errorf("agent %q: close session: %w", a.name, err)
	}
	return nil
}
