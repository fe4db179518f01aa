// Package awsfake is a protocol-level fake of the AWS operations awssecret calls: SSM
// GetParameter, Secrets Manager GetSecretValue and KMS Decrypt, all AWS JSON 1.1 (POST /,
// X-Amz-Target). Tests point the real SDK clients at it with BaseEndpoint. One server answers
// every service.
package awsfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// X-Amz-Target values the fake answers.
const (
	TargetGetParameter   = "AmazonSSM.GetParameter"
	TargetGetSecretValue = "secretsmanager.GetSecretValue"
)

const contentType = "application/x-amz-json-1.1"

// Parameter is an SSM parameter. Type is String, StringList or SecureString.
type Parameter struct {
	Type, Value string
}

// Secret is a Secrets Manager secret; Binary secrets have no SecretString.
type Secret struct {
	Name        string // set by PutSecret
	ARN, String string
	Binary      []byte
}

// Call is one request the fake received.
type Call struct {
	Target string
	Body   map[string]any // the decoded JSON request
}

// Server is the fake. Its zero value is not usable; call New.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	params   map[string]Parameter
	secrets  map[string]Secret // by name and by ARN
	calls    []Call
	fail     map[string][]string // target -> error codes to answer, in order
	disabled map[string]bool     // KMS key IDs whose Decrypt fails
}

// New starts a fake, closed when t ends.
func New(t testing.TB) *Server {
	s := &Server{params: map[string]Parameter{}, secrets: map[string]Secret{}, fail: map[string][]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Config returns an aws.Config aimed at the fake: static credentials, a region, no retries (so
// an injected error reaches the caller once).
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:           "eu-west-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDFAKE", "fake-secret-key", ""),
		BaseEndpoint:     aws.String(s.URL),
		RetryMaxAttempts: 1,
		HTTPClient:       s.Client(),
	}
}

// PutParameter creates or overwrites an SSM parameter.
func (s *Server) PutParameter(name string, p Parameter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.params[name] = p
}

// PutSecret creates or overwrites a secret, findable by name and by its ARN.
func (s *Server) PutSecret(name string, sec Secret) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec.Name = name
	if sec.ARN == "" {
		sec.ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:" + name + "-AbCdEf"
	}
	s.secrets[name] = sec
	s.secrets[sec.ARN] = sec
}

// FailNext makes the next len(codes) calls of target answer these error codes (e.g.
// "ThrottlingException", "InternalServerError") instead of succeeding.
func (s *Server) FailNext(target string, codes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[target] = append(s.fail[target], codes...)
}

// Calls returns the requests received so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	if r.Method != http.MethodPost || r.URL.Path != "/" || r.Header.Get("Content-Type") != contentType {
		writeErr(w, http.StatusBadRequest, "SerializationException", fmt.Sprintf("fake: unexpected %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type")))
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		writeErr(w, http.StatusBadRequest, "MissingAuthenticationTokenException", "request is not signed")
		return
	}
	raw, err := io.ReadAll(r.Body)
	var body map[string]any
	if err == nil {
		err = json.Unmarshal(raw, &body)
	}
	if err != nil {
		writeErr(w, http.StatusBadRequest, "SerializationException", "fake: body is not a JSON object")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Target: target, Body: body})
	if codes := s.fail[target]; len(codes) > 0 {
		s.fail[target] = codes[1:]
		writeErr(w, statusOf(codes[0]), codes[0], "injected by the fake")
		return
	}
	switch target {
	case TargetGetParameter:
		s.getParameter(w, body)
	case TargetGetSecretValue:
		s.getSecretValue(w, body)
	case TargetDecrypt:
		s.decrypt(w, body)
	default:
		writeErr(w, http.StatusBadRequest, "UnknownOperationException", "fake: unknown target "+target)
	}
}

// getParameter answers like SSM: a SecureString comes back decrypted only WithDecryption.
func (s *Server) getParameter(w http.ResponseWriter, body map[string]any) {
	name, _ := body["Name"].(string)
	p, ok := s.params[name]
	if !ok {
		writeErr(w, http.StatusBadRequest, "ParameterNotFound", "")
		return
	}
	value := p.Value
	if p.Type == "SecureString" && body["WithDecryption"] != true {
		value = "AQICAHencrypted" // what SSM returns: the ciphertext, base64
	}
	writeJSON(w, map[string]any{"Parameter": map[string]any{
		"Name": name, "Type": p.Type, "Value": value, "Version": 1, "DataType": "text",
		"ARN": "arn:aws:ssm:eu-west-1:123456789012:parameter/" + strings.TrimPrefix(name, "/"),
	}})
}

func (s *Server) getSecretValue(w http.ResponseWriter, body map[string]any) {
	id, _ := body["SecretId"].(string)
	sec, ok := s.secrets[id]
	if !ok {
		writeErr(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	out := map[string]any{
		"ARN": sec.ARN, "Name": sec.Name,
		"VersionId": "00000000-0000-0000-0000-000000000001", "VersionStages": []string{"AWSCURRENT"},
		"CreatedDate": 1.7e9,
	}
	if sec.Binary != nil {
		out["SecretBinary"] = sec.Binary // encoding/json writes base64, as the blob type wants
	} else {
		out["SecretString"] = sec.String
	}
	writeJSON(w, out)
}

// statusOf: server-side faults are 500s, the rest (throttling included) 400s, as AWS answers.
func statusOf(code string) int {
	switch code {
	case "InternalServerError", "InternalServiceError", "InternalFailure", "ServiceUnavailable":
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-RequestId", "fake-request-id")
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-RequestId", "fake-request-id")
	w.WriteHeader(status)
	b := map[string]any{"__type": code}
	if msg != "" {
		b["message"] = msg
	}
	_ = json.NewEncoder(w).Encode(b)
}
