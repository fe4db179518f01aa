package ado

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds a response body; a pool's agents with capabilities run to a few MB at most.
const maxBody = 32 << 20

// request is one logical call; do turns it into one or more HTTP attempts.
type request struct {
	op          string // metric label, e.g. "ListAgents"
	call        string // human description for errors, e.g. "list agents in pool 3"
	method      string
	url         string
	body        []byte
	contentType string
	auth        string // Authorization header value; the org credential unless a plan token
	// idempotent calls retry on 429, any 5xx and transport errors. Others (POSTs that create
	// something) retry only when the server says nothing happened: 429, or 503 with Retry-After.
	idempotent bool
}

// orgURL joins the organization URL with an escaped path and a query.
func (c *Client) orgURL(path string, q url.Values) string {
	u := *c.org
	u.Path += path
	u.RawQuery = q.Encode()
	return u.String()
}

// withVersion returns q (or a new Values) with api-version set.
func withVersion(q url.Values, v string) url.Values {
	if q == nil {
		q = url.Values{}
	}
	q.Set("api-version", v)
	return q
}

// do runs r with retries and decodes a JSON success body into out (when out is not nil).
// It returns the headers of the successful response.
func (c *Client) do(ctx context.Context, r request, out any) (http.Header, error) {
	planAuth := r.auth // a plan token is fixed; the org credential is asked for per attempt
	var lastErr error  // the previous attempt's, reported if waiting for the next is cut short
	for attempt := 0; ; attempt++ {
		if gerr := c.waitGate(ctx, r); gerr != nil {
			if lastErr != nil {
				return nil, fmt.Errorf("ado: %s: %w (last attempt: %w)", r.call, gerr, lastErr)
			}
			return nil, fmt.Errorf("ado: %s: %w", r.call, gerr)
		}
		secrets, err := c.authorize(ctx, &r, planAuth)
		if err != nil {
			if lastErr != nil {
				return nil, fmt.Errorf("ado: %s: %w (last attempt: %w)", r.call, err, lastErr)
			}
			return nil, fmt.Errorf("ado: %s: %w", r.call, err)
		}
		res, err := c.attempt(ctx, r, secrets)
		if res != nil {
			c.observeRateLimit(r, res.header)
			if res.status == http.StatusTooManyRequests && c.onThrottle != nil {
				wait, _ := parseRetryAfter(res.header.Get("Retry-After"), c.now())
				c.onThrottle(r.op, wait)
			}
		}
		if err == nil {
			if out != nil {
				if err := decodeSuccess(res, out, secrets); err != nil {
					return nil, fmt.Errorf("ado: %s: %w", r.call, err)
				}
			}
			recycleBody(res.body) // decoded: nothing refers to it (body.go)
			return res.header, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ado: %s: %w (last attempt: %w)", r.call, ctx.Err(), err)
		}
		reason, ok := retryable(r, res, err)
		if !ok || attempt >= c.maxRetries {
			return nil, err
		}
		wait, serverSaid := c.retryWait(attempt, res)
		c.metrics.retries.WithLabelValues(r.op, reason).Inc()
		c.log.Warn("ado call failed, retrying", "call", r.op, "attempt", attempt+1,
			"reason", reason, "wait", wait, "err", err)
		lastErr = err
		if serverSaid {
			// Retry-After is about the credential, not this call: hold every call.
			c.holdUntil(c.now().Add(wait))
			continue
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			return nil, fmt.Errorf("ado: %s: %w (last attempt: %w)", r.call, serr, err)
		}
	}
}

// authorize sets r.auth for one attempt (planAuth, else the org credential's current header) and
// returns the values to scrub from its messages: that header and every org credential used so far.
// A failure to get the credential is returned redacted and naming no value.
func (c *Client) authorize(ctx context.Context, r *request, planAuth string) ([]string, error) {
	r.auth = planAuth
	if r.auth == "" {
		auth, err := c.creds.current(ctx)
		if err != nil {
			return nil, fmt.Errorf("get organization credential: %w", redacted(err, c.creds.secrets()))
		}
		r.auth = auth
	}
	return append([]string{r.auth, strings.TrimPrefix(r.auth, "Bearer ")}, c.creds.secrets()...), nil
}

// response is what one attempt saw.
type response struct {
	status int
	header http.Header
	body   []byte
	// cut: the body could not be read to its end (connection lost, attempt timed out): a
	// transport failure, whatever the status said.
	cut bool
}

// decodeSuccess decodes a success body into out. Every call that passes out expects a JSON
// document, so an empty body or a bare null is an error rather than an empty result: a pool whose
// agent list came back blank from a proxy must not look like a pool with no agents.
func decodeSuccess(res *response, out any, secrets []string) error {
	ct := redact(res.header.Get("Content-Type"), secrets...)
	body := bytes.TrimSpace(res.body)
	if len(body) == 0 || string(body) == "null" {
		return fmt.Errorf("decode response: HTTP %d answer has no JSON document (Content-Type %q, %d bytes)",
			res.status, ct, len(res.body))
	}
	if err := unmarshalBody(body, out); err != nil {
		// A decode error can quote a value of the body (a bad timestamp): scrub the credential.
		err = redacted(err, secrets)
		if !isJSONType(ct) {
			return fmt.Errorf("decode response: answer is %q, not JSON: %w", ct, err)
		}
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}

// isJSONType reports whether a Content-Type names JSON (application/json, text/json, +json).
func isJSONType(ct string) bool {
	mt, _, _ := strings.Cut(strings.ToLower(ct), ";")
	mt = strings.TrimSpace(mt)
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

// attempt makes one HTTP request under the per-attempt timeout. A non-success status becomes an
// *Error; a transport failure is returned wrapped, with res nil.
func (c *Client) attempt(ctx context.Context, r request, secrets []string) (*response, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(actx, r.method, r.url, body)
	if err != nil {
		return nil, fmt.Errorf("ado: %s: build request: %w", r.call, err)
	}
	req.Header.Set("Authorization", r.auth)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	// Ask ADO for a 401 rather than a redirect to the sign-in page when the credential is bad.
	req.Header.Set("X-TFS-FedAuthRedirect", "Suppress")
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}

	c.calls.Add(1)
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.metrics.requests.WithLabelValues(r.op, "error").Inc()
		c.metrics.duration.WithLabelValues(r.op).Observe(time.Since(start).Seconds())
		return nil, fmt.Errorf("ado: %s: %w", r.call, redacted(err, secrets))
	}
	data, err := readBody(resp)
	drain(resp.Body)
	c.metrics.duration.WithLabelValues(r.op).Observe(time.Since(start).Seconds())
	c.metrics.requests.WithLabelValues(r.op, strconv.Itoa(resp.StatusCode)).Inc()
	res := &response{status: resp.StatusCode, header: resp.Header, body: data}
	if err != nil {
		res.cut = true
		return res, fmt.Errorf("ado: %s: read response (HTTP %d, %d bytes read): %w", r.call, resp.StatusCode, len(data), redacted(err, secrets))
	}
	ct := resp.Header.Get("Content-Type")
	switch {
	case resp.StatusCode == http.StatusNonAuthoritativeInfo:
		return res, newError(r.call, r.method, resp.StatusCode, ct, data, secrets...)
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if len(data) > maxBody {
			return res, fmt.Errorf("ado: %s: response body is larger than %d MiB", r.call, maxBody>>20)
		}
		if len(data) > 0 && isHTML(ct, data) {
			// A sign-in page behind a redirect: the credential was not accepted.
			e := newError(r.call, r.method, resp.StatusCode, ct, data, secrets...)
			e.Status = http.StatusUnauthorized
			return res, e
		}
		return res, nil
	default:
		return res, newError(r.call, r.method, resp.StatusCode, ct, data, secrets...)
	}
}

// redactedError keeps an error's chain (errors.Is still finds context.DeadlineExceeded) while its
// text has every credential removed.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func redacted(err error, secrets []string) error {
	return &redactedError{msg: redact(err.Error(), secrets...), err: err}
}

// retryable decides whether a failed attempt may be tried again, and names the reason.
func retryable(r request, res *response, err error) (reason string, ok bool) {
	if res == nil || res.cut {
		// No (whole) response: the request may or may not have reached ADO, unless the
		// connection was never made, which no request can have crossed.
		return "transport", r.idempotent || (res == nil && neverSent(err))
	}
	switch {
	case res.status == http.StatusTooManyRequests:
		return "throttled", true
	case res.status >= 500:
		if r.idempotent {
			return "server_error", true
		}
		_, hasRetryAfter := parseRetryAfter(res.header.Get("Retry-After"), time.Time{})
		return "server_error", res.status == http.StatusServiceUnavailable && hasRetryAfter
	}
	return "", false
}

// neverSent reports whether err says no connection was made (a refused or timed-out dial, a name
// that did not resolve), so that ADO cannot have received the request: even a POST that creates
// something may then be sent again.
func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}
