// Package cwfake is a protocol-level fake of CloudWatch PutMetricData as aws-sdk-go-v2's
// service/cloudwatch (v1.75.6 in go.mod) sends it: Smithy RPC v2 CBOR, POST
// /service/GraniteServiceVersion20100801/operation/PutMetricData, gzip-compressed above the SDK's
// size threshold. It decodes each request into metric data and records it.
package cwfake

import (
	"compress/gzip"
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
	// The SDK's own CBOR codec: its doc reserves the API for the smithy runtime, acceptable in
	// a test fake pinned by go.mod, and it decodes exactly what the client encodes.
	"github.com/aws/smithy-go/encoding/cbor"
)

// Path is where the client posts PutMetricData.
const Path = "/service/GraniteServiceVersion20100801/operation/PutMetricData"

// Datum is one decoded MetricDatum (the members the publisher sends).
type Datum struct {
	MetricName string
	Dimensions map[string]string
	Timestamp  time.Time
	Value      float64
	Unit       string
}

// Call is one decoded PutMetricData request.
type Call struct {
	Namespace string
	Data      []Datum
	Gzipped   bool
	Keys      map[string][]string // CBOR map keys seen, by level: "input", "datum", "dimension"
}

// Server is the fake; create it with New.
type Server struct {
	*httptest.Server

	mu    sync.Mutex
	calls []Call
	fail  []string // error codes for the next calls, in order
}

// New starts a fake, closed when t ends.
func New(t testing.TB) *Server {
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Config returns an aws.Config aimed at the fake with static credentials and no retries.
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:           "eu-west-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDFAKE", "fake-secret-key", ""),
		BaseEndpoint:     aws.String(s.URL),
		RetryMaxAttempts: 1,
		HTTPClient:       s.Client(),
	}
}

// FailNext makes the next len(codes) calls fail with these error codes: a modeled one
// ("InvalidParameterValueException", "InternalServiceFault") or throttling ("Throttling").
func (s *Server) FailNext(codes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, codes...)
}

// Calls returns the decoded requests received so far (failed ones included).
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != Path ||
		r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" || r.Header.Get("Content-Type") != "application/cbor" {
		writeErr(w, http.StatusBadRequest, "SerializationException", "",
			fmt.Sprintf("fake: unexpected %s %s (Smithy-Protocol %q, Content-Type %q)", r.Method, r.URL.Path, r.Header.Get("Smithy-Protocol"), r.Header.Get("Content-Type")))
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		writeErr(w, http.StatusForbidden, "MissingAuthenticationToken", "", "request is not signed")
		return
	}
	var body io.Reader = r.Body
	gz := r.Header.Get("Content-Encoding") == "gzip"
	if gz {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			writeErr(w, http.StatusBadRequest, "SerializationException", "", "fake: bad gzip")
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "SerializationException", "", "fake: read body")
		return
	}
	call, err := decode(raw)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "SerializationException", "", "fake: "+err.Error())
		return
	}
	call.Gzipped = gz
	s.mu.Lock()
	s.calls = append(s.calls, call)
	var code string
	if len(s.fail) > 0 {
		code, s.fail = s.fail[0], s.fail[1:]
	}
	s.mu.Unlock()
	if code != "" {
		writeFault(w, code)
		return
	}
	if err := validate(call); err != nil {
		writeErr(w, http.StatusBadRequest, "InvalidParameterValueException", "InvalidParameterValue;Sender", err.Error())
		return
	}
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	_, _ = w.Write(cbor.Encode(cbor.Map{}))
}

// validate applies the service-side limits the publisher must respect.
func validate(c Call) error {
	if c.Namespace == "" {
		return fmt.Errorf("the parameter Namespace is required")
	}
	if len(c.Data) == 0 || len(c.Data) > 1000 {
		return fmt.Errorf("the collection MetricData must contain 1 to 1000 items, got %d", len(c.Data))
	}
	for _, d := range c.Data {
		if len(d.Dimensions) > 30 {
			return fmt.Errorf("metric %s: more than 30 dimensions", d.MetricName)
		}
	}
	return nil
}

// writeFault answers an injected error the way the service does for this query-compatible
// protocol: the Smithy error type in the body, the Query-era code in X-Amzn-Query-Error.
func writeFault(w http.ResponseWriter, code string) {
	switch code {
	case "Throttling":
		writeErr(w, http.StatusBadRequest, "ThrottlingException", "Throttling;Sender", "Rate exceeded")
	case "InternalServiceFault":
		writeErr(w, http.StatusInternalServerError, "InternalServiceFault", "InternalServiceError;Receiver", "injected by the fake")
	case "InvalidParameterValueException":
		writeErr(w, http.StatusBadRequest, code, "InvalidParameterValue;Sender", "injected by the fake")
	default:
		writeErr(w, http.StatusBadRequest, code, "", "injected by the fake")
	}
}

func writeErr(w http.ResponseWriter, status int, typ, queryErr, msg string) {
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	if queryErr != "" {
		w.Header().Set("X-Amzn-Query-Error", queryErr)
	}
	w.WriteHeader(status)
	_, _ = w.Write(cbor.Encode(cbor.Map{
		"__type":  cbor.String("com.amazonaws.cloudwatch#" + typ),
		"message": cbor.String(msg),
	}))
}

// decode reads a PutMetricDataInput.
func decode(raw []byte) (Call, error) {
	v, err := cbor.Decode(raw)
	if err != nil {
		return Call{}, fmt.Errorf("CBOR: %w", err)
	}
	in, ok := v.(cbor.Map)
	if !ok {
		return Call{}, fmt.Errorf("input is %T, want a map", v)
	}
	c := Call{Keys: map[string][]string{}}
	c.Keys["input"] = keys(in)
	c.Namespace, _ = str(in["Namespace"])
	list, _ := in["MetricData"].(cbor.List)
	for i, e := range list {
		m, ok := e.(cbor.Map)
		if !ok {
			return Call{}, fmt.Errorf("MetricData[%d] is %T, want a map", i, e)
		}
		c.Keys["datum"] = append(c.Keys["datum"], keys(m)...)
		d := Datum{Dimensions: map[string]string{}}
		d.MetricName, _ = str(m["MetricName"])
		d.Unit, _ = str(m["Unit"])
		if m["Value"] != nil {
			if d.Value, err = cbor.AsFloat64(m["Value"]); err != nil {
				return Call{}, fmt.Errorf("MetricData[%d].Value: %w", i, err)
			}
		}
		if m["Timestamp"] != nil {
			if d.Timestamp, err = cbor.AsTime(m["Timestamp"]); err != nil {
				return Call{}, fmt.Errorf("MetricData[%d].Timestamp: %w", i, err)
			}
		}
		dims, _ := m["Dimensions"].(cbor.List)
		for _, de := range dims {
			dm, ok := de.(cbor.Map)
			if !ok {
				return Call{}, fmt.Errorf("MetricData[%d].Dimensions: %T, want a map", i, de)
			}
			c.Keys["dimension"] = append(c.Keys["dimension"], keys(dm)...)
			n, _ := str(dm["Name"])
			val, _ := str(dm["Value"])
			d.Dimensions[n] = val
		}
		c.Data = append(c.Data, d)
	}
	return c, nil
}

func str(v cbor.Value) (string, bool) {
	s, ok := v.(cbor.String)
	return string(s), ok
}

func keys(m cbor.Map) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
