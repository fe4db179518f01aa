package adosim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// agentClient is the simulated agent's plain net/http client for the calls the real agent makes.
type agentClient struct {
	base  string // org URL, no trailing slash
	token string
	http  *http.Client
}

// do sends one call. A non-2xx answer becomes an *Error carrying ADO's type key and message; a
// 202/204 answer leaves out untouched and reports the status.
func (c *agentClient) do(ctx context.Context, method, path string, q url.Values, in, out any) (int, error) {
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

func (c *agentClient) findPool(ctx context.Context, name string) (int, error) {
	var pools wireCollection[wirePool]
	if _, err := c.do(ctx, http.MethodGet, "/_apis/distributedtask/pools", url.Values{"poolName": {name}}, nil, &pools); err != nil {
		return 0, err
	}
	if len(pools.Value) == 0 {
		return 0, fmt.Errorf("find pool %q: no such pool", name)
	}
	return pools.Value[0].ID, nil
}

// register adds the agent, or replaces an agent of the same name as `config.sh --replace` does.
func (c *agentClient) register(ctx context.Context, poolID int, in wireAgentIn) (int, error) {
	var found wireCollection[wireAgent]
	if _, err := c.do(ctx, http.MethodGet, poolPath(poolID, "/agents"), url.Values{"agentName": {in.Name}}, nil, &found); err != nil {
		return 0, err
	}
	var got wireAgent
	if len(found.Value) > 0 {
		in.ID = found.Value[0].ID
		if _, err := c.do(ctx, http.MethodPut, poolPath(poolID, "/agents/"+strconv.Itoa(in.ID)), nil, in, &got); err != nil {
			return 0, err
		}
		return got.ID, nil
	}
	if _, err := c.do(ctx, http.MethodPost, poolPath(poolID, "/agents"), nil, in, &got); err != nil {
		return 0, err
	}
	return got.ID, nil
}

func (c *agentClient) createSession(ctx context.Context, poolID int, in wireSession) (string, error) {
	var got wireSession
	if _, err := c.do(ctx, http.MethodPost, poolPath(poolID, "/sessions"), nil, in, &got); err != nil {
		return "", err
	}
	if got.SessionID == "" {
		return "", errors.New("create session: answer has no sessionId")
	}
	return got.SessionID, nil
}

func (c *agentClient) deleteSession(ctx context.Context, poolID int, sessionID string) error {
	_, err := c.do(ctx, http.MethodDelete, poolPath(poolID, "/sessions/"+url.PathEscape(sessionID)), nil, nil, nil)
	return err
}

// getMessage long-polls; it returns nil and no error when the poll ends with nothing.
func (c *agentClient) getMessage(ctx context.Context, poolID int, sessionID string, last int64) (*wireMessage, error) {
	q := url.Values{"sessionId": {sessionID}}
	if last > 0 {
		q.Set("lastMessageId", strconv.FormatInt(last, 10))
	}
	var msg wireMessage
	status, err := c.do(ctx, http.MethodGet, poolPath(poolID, "/messages"), q, nil, &msg)
	if err != nil || status != http.StatusOK {
		return nil, err
	}
	return &msg, nil
}

func (c *agentClient) deleteMessage(ctx context.Context, poolID int, sessionID string, id int64) error {
	q := url.Values{"sessionId": {sessionID}}
	_, err := c.do(ctx, http.MethodDelete, poolPath(poolID, "/messages/"+strconv.FormatInt(id, 10)), q, nil, nil)
	return err
}

// updateRequest renews the job's lock (result "") or finishes it.
func (c *agentClient) updateRequest(ctx context.Context, poolID int, jm JobMessage, result string) error {
	in := wireJobRequestIn{RequestID: jm.RequestID}
	if result != "" {
		now := time.Now().UTC()
		in.FinishTime, in.Result = &now, &result
	}
	q := url.Values{"lockToken": {jm.LockToken}}
	_, err := c.do(ctx, http.MethodPatch, poolPath(poolID, "/jobrequests/"+strconv.FormatInt(jm.RequestID, 10)), q, in, nil)
	return err
}
