package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/adofleet/adofleet/internal/checks"
	"github.com/adofleet/adofleet/internal/config"
)

// checksPathPrefix is where the checks endpoint's path starts inside whatever path API Gateway
// passes on (a stage name or a custom domain's base path may come first).
const checksPathPrefix = "/v1/checks/"

// lambdaChecks is the checks handler's state: the endpoint is built on the first invocation and
// kept for the life of the execution environment; a failed build is retried by the next one.
type lambdaChecks struct {
	mu       sync.Mutex
	endpoint http.Handler
	log      *slog.Logger
}

// Checks serves one API Gateway event (a REST API proxy event, or an HTTP API or function URL
// event in payload format 2.0) with the same endpoint serve mounts: the same authentication,
// validation and durable write. It returns the matching response event. The request is picked
// up by the reconcile function, which reads the pending requests from the shared store.
func (h *lambdaHandler) Checks(ctx context.Context, payload json.RawMessage) (any, error) {
	var probe struct {
		Version    string `json:"version"`
		HTTPMethod string `json:"httpMethod"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		return nil, fmt.Errorf("lambda checks handler: the event is not a JSON object: %w", err)
	}
	if probe.Version != "2.0" && probe.HTTPMethod == "" {
		return nil, errors.New(`lambda checks handler: not an API Gateway event (want a REST API proxy event with httpMethod, or payload format "version": "2.0")`)
	}
	endpoint, log, err := h.checksEndpoint(ctx)
	if err != nil {
		return nil, err
	}
	if probe.Version == "2.0" {
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("lambda checks handler: HTTP API event: %w", err)
		}
		status, header, body := serveEvent(ctx, endpoint, v2Request(ev))
		log.Debug("checks call", "request", ev.RequestContext.RequestID, "status", status)
		resp := events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: joinHeaders(header)}
		resp.Body, resp.IsBase64Encoded = encodeBody(body)
		return resp, nil
	}
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("lambda checks handler: REST API event: %w", err)
	}
	status, header, body := serveEvent(ctx, endpoint, v1Request(ev))
	log.Debug("checks call", "request", ev.RequestContext.RequestID, "status", status)
	resp := events.APIGatewayProxyResponse{StatusCode: status, Headers: joinHeaders(header), MultiValueHeaders: header}
	resp.Body, resp.IsBase64Encoded = encodeBody(body)
	return resp, nil
}

// checksLambdaConfig vets the config for the checks function before anything is opened.
func checksLambdaConfig(cfg *config.Config) error {
	if !cfg.Checks.Enabled {
		return errors.New("lambda checks handler: checks.enabled is false in the config")
	}
	if cfg.Store.SQLite != nil {
		return errors.New("lambda checks handler: store.sqlite lives in one execution environment's /tmp, so the reconcile function would never see the requests this function records; use store.dynamodb (or store.postgres), shared by both")
	}
	return nil
}

// checksEndpoint builds the endpoint once: the config, the store and the credentials only (no
// ADO client, no providers: this function records requests; the reconcile function acts on them).
func (h *lambdaHandler) checksEndpoint(ctx context.Context) (http.Handler, *slog.Logger, error) {
	h.chk.mu.Lock()
	defer h.chk.mu.Unlock()
	if h.chk.endpoint != nil {
		return h.chk.endpoint, h.chk.log, nil
	}
	e, err := h.env(ctx, false, checksLambdaConfig)
	if err != nil {
		return nil, nil, err
	}
	cfg, log := e.cfg, e.log
	auth, err := checksAuth(ctx, cfg.Checks, e.base.secrets)
	if err != nil {
		return nil, nil, fmt.Errorf("lambda: %w", err)
	}
	// No wake: the reconcile function reads the pending requests on its next run.
	endpoint, err := newChecksHandler(cfg, auth, checks.NewStoreRequests(e.base.store), nil, e.reg, log)
	if err != nil {
		return nil, nil, fmt.Errorf("lambda: %w", err)
	}
	h.chk.endpoint, h.chk.log = endpoint, log.With("component", "lambda")
	return h.chk.endpoint, h.chk.log, nil
}

// apiRequest is the part of an API Gateway event the endpoint reads.
type apiRequest struct {
	method, path, rawQuery, sourceIP string
	header                           http.Header
	body                             string
	base64                           bool
}

func v2Request(ev events.APIGatewayV2HTTPRequest) apiRequest {
	h := http.Header{}
	for k, v := range ev.Headers {
		h.Set(k, v) // API Gateway already joined repeated headers with commas
	}
	if len(ev.Cookies) > 0 {
		h.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	return apiRequest{
		method: ev.RequestContext.HTTP.Method, path: ev.RawPath, rawQuery: ev.RawQueryString,
		sourceIP: ev.RequestContext.HTTP.SourceIP, header: h, body: ev.Body, base64: ev.IsBase64Encoded,
	}
}

func v1Request(ev events.APIGatewayProxyRequest) apiRequest {
	h := http.Header{}
	for k, vs := range ev.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range ev.Headers { // only those the multi-value form lacks
		if h.Get(k) == "" {
			h.Set(k, v)
		}
	}
	q := url.Values{}
	for k, vs := range ev.MultiValueQueryStringParameters {
		q[k] = append(q[k], vs...)
	}
	for k, v := range ev.QueryStringParameters {
		if _, ok := q[k]; !ok {
			q.Set(k, v)
		}
	}
	return apiRequest{
		method: ev.HTTPMethod, path: ev.Path, rawQuery: q.Encode(), sourceIP: ev.RequestContext.Identity.SourceIP,
		header: h, body: ev.Body, base64: ev.IsBase64Encoded,
	}
}

// serveEvent runs the endpoint on r as an http.Request and returns what it wrote.
func serveEvent(ctx context.Context, endpoint http.Handler, r apiRequest) (int, http.Header, []byte) {
	body := []byte(r.body)
	if r.base64 {
		b, err := base64.StdEncoding.DecodeString(r.body)
		if err != nil {
			return http.StatusBadRequest, http.Header{"Content-Type": {"application/json"}},
				[]byte(`{"status":"error","message":"the body is marked base64 but is not valid base64"}` + "\n")
		}
		body = b
	}
	path := r.path
	if i := strings.Index(path, checksPathPrefix); i > 0 {
		path = path[i:] // drop a stage name or a custom domain's base path
	}
	target := (&url.URL{Path: path, RawQuery: r.rawQuery}).RequestURI()
	req, err := http.NewRequestWithContext(ctx, r.method, target, bytes.NewReader(body))
	if err != nil {
		return http.StatusBadRequest, http.Header{"Content-Type": {"application/json"}},
			[]byte(`{"status":"error","message":"malformed request line"}` + "\n")
	}
	req.Header = r.header
	req.RequestURI = target
	if r.sourceIP != "" {
		req.RemoteAddr = r.sourceIP + ":0"
	}
	w := &responseRecorder{header: http.Header{}}
	endpoint.ServeHTTP(w, req)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.status, w.header, w.body.Bytes()
}

// responseRecorder keeps what a handler writes, for the response event.
type responseRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *responseRecorder) Header() http.Header { return w.header }

func (w *responseRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *responseRecorder) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// joinHeaders is h in the single-value form, repeated values joined with commas.
func joinHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		out[k] = strings.Join(vs, ", ")
	}
	return out
}

// encodeBody returns body as the event's text, base64 when it is not UTF-8.
func encodeBody(body []byte) (string, bool) {
	if utf8.Valid(body) {
		return string(body), false
	}
	return base64.StdEncoding.EncodeToString(body), true
}
