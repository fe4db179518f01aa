package adosim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
)

// InProcess is an http.RoundTripper that serves each request by calling Handler directly: the
// wire contract (routes, JSON, status codes) is exercised without sockets. It keeps a simulation
// of thousands of jobs fast, and it works inside a synctest bubble, where loopback sockets do not.
type InProcess struct{ Handler http.Handler }

// RoundTrip serves req with t.Handler.
func (t InProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil {
		req.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.Handler.ServeHTTP(rec, req)
	// A real transport gives up when the request's context ends: the caller sees the context's
	// error, never the half-written answer of a handler that stopped early (a hung request).
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	return rec.Result(), nil
}

// AgentClient makes, over plain net/http, the calls the Azure Pipelines agent makes: those of
// config.sh (find the pool, register or replace the agent, remove it) and those of run.sh (open
// and close a session, fetch and acknowledge messages, renew and finish a job request). RunAgent
// runs on it; so do the discrete-event simulator's agents and the deploy tests' stub agent.
type AgentClient struct {
	base  string // org URL, no trailing slash
	token string
	http  *http.Client
	clock Clock
}

// NewAgentClient returns a client of the organization at orgURL (e.g.
// http://127.0.0.1:8081/fabrikam) that authenticates with the PAT token. hc nil is
// http.DefaultClient. clock stamps the finishTime of a finished job (the Org ignores it and uses
// its own); nil is RealClock.
func NewAgentClient(orgURL, token string, hc *http.Client, clock Clock) *AgentClient {
	if hc == nil {
		hc = http.DefaultClient
	}
	if clock == nil {
		clock = RealClock{}
	}
	return &AgentClient{base: strings.TrimRight(orgURL, "/"), token: token, http: hc, clock: clock}
}

// do sends one call. A non-2xx answer becomes an *Error carrying ADO's type key and message; a
// 202/204 answer leaves out untouched and reports the status.
func (c *AgentClient) do(ctx context.Context, method, path string, q url.Values, in, out any) (int, error) {
	if q == nil {
		q = url.Values{}
	}
	q.Set("api-version", "7.1")
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("%s %s: encode body: %w", method, path, err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path+"?"+q.Encode(), body)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.SetBasicAuth("", c.token)
	req.Header.Set("Accept", "application/json;api-version=7.1")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var we wireError
		_ = json.Unmarshal(data, &we)
		if we.Message == "" {
			we.Message = http.StatusText(resp.StatusCode)
		}
		return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, &Error{Status: resp.StatusCode, TypeKey: we.TypeKey, Message: we.Message})
	}
	if out != nil && resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusAccepted && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

func poolPath(poolID int, rest string) string {
	return "/_apis/distributedtask/pools/" + strconv.Itoa(poolID) + rest
}

// FindPool returns the id of the agent pool called name.
func (c *AgentClient) FindPool(ctx context.Context, name string) (int, error) {
	var pools wireCollection[wirePool]
	if _, err := c.do(ctx, http.MethodGet, "/_apis/distributedtask/pools", url.Values{"poolName": {name}}, nil, &pools); err != nil {
		return 0, err
	}
	if len(pools.Value) == 0 {
		return 0, fmt.Errorf("find pool %q: no such pool", name)
	}
	return pools.Value[0].ID, nil
}

// AgentRegistration is the agent config.sh registers: enabled, one job at a time, version
// SimAgentVersion.
type AgentRegistration struct {
	Name              string
	OSDescription     string
	ProvisioningState string
	Capabilities      map[string]string // reported as system capabilities
	publicKey         *wirePublicKey    // RunAgent's agent sends one, as the real agent does
}

func (r AgentRegistration) wire() wireAgentIn {
	enabled := true
	in := wireAgentIn{
		Name: r.Name, Version: SimAgentVersion, OSDescription: r.OSDescription, Enabled: &enabled,
		MaxParallelism: 1, ProvisioningState: r.ProvisioningState, SystemCapabilities: r.Capabilities,
	}
	if r.publicKey != nil {
		in.Authorization = &wireAuthorization{PublicKey: r.publicKey}
	}
	return in
}

// AddAgent adds the agent to the pool (a name already there is a conflict) and returns its id.
func (c *AgentClient) AddAgent(ctx context.Context, poolID int, a AgentRegistration) (int, error) {
	var got wireAgent
	if _, err := c.do(ctx, http.MethodPost, poolPath(poolID, "/agents"), nil, a.wire(), &got); err != nil {
		return 0, err
	}
	return got.ID, nil
}

// Register adds the agent, or replaces an agent of the same name as `config.sh --replace` does,
// and returns its id.
func (c *AgentClient) Register(ctx context.Context, poolID int, a AgentRegistration) (int, error) {
	var found wireCollection[wireAgent]
	if _, err := c.do(ctx, http.MethodGet, poolPath(poolID, "/agents"), url.Values{"agentName": {a.Name}}, nil, &found); err != nil {
		return 0, err
	}
	if len(found.Value) == 0 {
		return c.AddAgent(ctx, poolID, a)
	}
	in := a.wire()
	in.ID = found.Value[0].ID
	var got wireAgent
	if _, err := c.do(ctx, http.MethodPut, poolPath(poolID, "/agents/"+strconv.Itoa(in.ID)), nil, in, &got); err != nil {
		return 0, err
	}
	return got.ID, nil
}

// DeleteAgent removes the agent from the pool (`config.sh remove`).
func (c *AgentClient) DeleteAgent(ctx context.Context, poolID, agentID int) error {
	_, err := c.do(ctx, http.MethodDelete, poolPath(poolID, "/agents/"+strconv.Itoa(agentID)), nil, nil, nil)
	return err
}

// CreateSession opens a session of the agent (it goes online) and returns the session id.
func (c *AgentClient) CreateSession(ctx context.Context, poolID, agentID int, agentName string) (string, error) {
	in := wireSession{OwnerName: agentName, Agent: &wireAgentRef{ID: agentID, Name: agentName, Version: SimAgentVersion, Enabled: true}}
	var got wireSession
	if _, err := c.do(ctx, http.MethodPost, poolPath(poolID, "/sessions"), nil, in, &got); err != nil {
		return "", err
	}
	if got.SessionID == "" {
		return "", errors.New("create session: answer has no sessionId")
	}
	return got.SessionID, nil
}

// DeleteSession closes the session (the agent goes offline).
func (c *AgentClient) DeleteSession(ctx context.Context, poolID int, sessionID string) error {
	_, err := c.do(ctx, http.MethodDelete, poolPath(poolID, "/sessions/"+url.PathEscape(sessionID)), nil, nil, nil)
	return err
}

// Message is a message a session receives.
type Message struct {
	ID   int64
	Type string // JobMessageType for a job
	Body string
}

// Job decodes the job a message of JobMessageType carries.
func (m *Message) Job() (JobMessage, error) {
	var jm JobMessage
	err := json.Unmarshal([]byte(m.Body), &jm)
	return jm, err
}

// GetMessage long-polls the session for the message after last (0: the first). It returns nil
// and no error when the poll ends with nothing.
func (c *AgentClient) GetMessage(ctx context.Context, poolID int, sessionID string, last int64) (*Message, error) {
	q := url.Values{"sessionId": {sessionID}}
	if last > 0 {
		q.Set("lastMessageId", strconv.FormatInt(last, 10))
	}
	var msg wireMessage
	status, err := c.do(ctx, http.MethodGet, poolPath(poolID, "/messages"), q, nil, &msg)
	if err != nil || status != http.StatusOK {
		return nil, err
	}
	return &Message{ID: msg.MessageID, Type: msg.MessageType, Body: msg.Body}, nil
}

// DeleteMessage acknowledges message id.
func (c *AgentClient) DeleteMessage(ctx context.Context, poolID int, sessionID string, id int64) error {
	q := url.Values{"sessionId": {sessionID}}
	_, err := c.do(ctx, http.MethodDelete, poolPath(poolID, "/messages/"+strconv.FormatInt(id, 10)), q, nil, nil)
	return err
}

// UpdateRequest renews the job's lock (result "") or finishes it with result.
func (c *AgentClient) UpdateRequest(ctx context.Context, poolID int, jm JobMessage, result string) error {
	in := wireJobRequestIn{RequestID: jm.RequestID}
	if result != "" {
		now := c.clock.Now()
		in.FinishTime, in.Result = &now, &result
	}
	q := url.Values{"lockToken": {jm.LockToken}}
	_, err := c.do(ctx, http.MethodPatch, poolPath(poolID, "/jobrequests/"+strconv.FormatInt(jm.RequestID, 10)), q, in, nil)
	return err
}
