package awsfake_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/adofleet/adofleet/internal/secret/awssecret/awsfake"
)

const botocore = "/usr/lib/python3/dist-packages/botocore/data"

// model is the part of a botocore service-2.json the check reads.
type model struct {
	Metadata struct {
		Protocol     string `json:"protocol"`
		JSONVersion  string `json:"jsonVersion"`
		TargetPrefix string `json:"targetPrefix"`
	} `json:"metadata"`
	Operations map[string]struct {
		Input  struct{ Shape string }   `json:"input"`
		Output struct{ Shape string }   `json:"output"`
		Errors []struct{ Shape string } `json:"errors"`
	} `json:"operations"`
	Shapes map[string]shape `json:"shapes"`
}

type shape struct {
	Type    string                            `json:"type"`
	Members map[string]struct{ Shape string } `json:"members"`
	Member  struct{ Shape string }            `json:"member"`
	Key     struct{ Shape string }            `json:"key"`
	Value   struct{ Shape string }            `json:"value"`
}

func loadModel(t *testing.T, svc string) *model {
	t.Helper()
	if _, err := os.Stat(botocore); err != nil {
		t.Skipf("botocore models not installed at %s (apt-get install python3-botocore): %v", botocore, err)
	}
	b, err := os.ReadFile(filepath.Join(botocore, svc, "service-2.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m model
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", svc, err)
	}
	return &m
}

// conform reports every member of v that the model's shape name does not have, recursively.
func conform(t *testing.T, m *model, name, path string, v any) {
	t.Helper()
	sh, ok := m.Shapes[name]
	if !ok {
		t.Errorf("%s: shape %s not in the model", path, name)
		return
	}
	switch sh.Type {
	case "structure":
		obj, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s: got %T, want an object (%s)", path, v, name)
			return
		}
		for k, mv := range obj {
			mem, ok := sh.Members[k]
			if !ok {
				t.Errorf("%s.%s: member not in shape %s", path, k, name)
				continue
			}
			conform(t, m, mem.Shape, path+"."+k, mv)
		}
	case "list":
		l, ok := v.([]any)
		if !ok {
			t.Errorf("%s: got %T, want a list (%s)", path, v, name)
			return
		}
		for _, e := range l {
			conform(t, m, sh.Member.Shape, path+"[]", e)
		}
	case "map":
		obj, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s: got %T, want an object (%s)", path, v, name)
			return
		}
		for k, mv := range obj {
			conform(t, m, sh.Key.Shape, path+".<key>", k)
			conform(t, m, sh.Value.Shape, path+"."+k, mv)
		}
	case "string", "blob":
		if _, ok := v.(string); !ok {
			t.Errorf("%s: got %T, want a string (%s)", path, v, name)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			t.Errorf("%s: got %T, want a boolean (%s)", path, v, name)
		}
	case "integer", "long", "double", "float", "timestamp":
		if _, ok := v.(float64); !ok {
			t.Errorf("%s: got %T, want a number (%s)", path, v, name)
		}
	default:
		t.Errorf("%s: shape type %s not handled by the check", path, sh.Type)
	}
}

// post sends a signed JSON 1.1 request to the fake and decodes the answer.
func post(t *testing.T, s *awsfake.Server, target string, body map[string]any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	creds, _ := s.Config().Credentials.Retrieve(context.Background())
	sum := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" // not checked by the fake
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, sum, "ssm", "eu-west-1", fixedTime); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: decode answer: %v", target, err)
	}
	return resp.StatusCode, out
}

func TestFakeMatchesBotocoreModels(t *testing.T) {
	t.Parallel()
	s := awsfake.New(t)
	s.PutParameter("/adofleet/pat", awsfake.Parameter{Type: "SecureString", Value: "v"})
	s.PutSecret("adofleet/pat", awsfake.Secret{String: "v"})
	s.PutSecret("adofleet/bin", awsfake.Secret{Binary: []byte{1, 2}})
	ct := base64.StdEncoding.EncodeToString(s.Encrypt("k1", []byte("v"), nil))
	ctx := base64.StdEncoding.EncodeToString(s.Encrypt("k1", []byte("v"), map[string]string{"LambdaFunctionName": "notify"}))
	off := base64.StdEncoding.EncodeToString(s.Encrypt("k2", []byte("v"), nil))
	s.DisableKey("k2")

	tests := []struct {
		svc, op, target string
		req             map[string]any
		wantErr         string // "" for success
	}{
		{"ssm/2014-11-06", "GetParameter", awsfake.TargetGetParameter, map[string]any{"Name": "/adofleet/pat", "WithDecryption": true}, ""},
		{"ssm/2014-11-06", "GetParameter", awsfake.TargetGetParameter, map[string]any{"Name": "/nope", "WithDecryption": true}, "ParameterNotFound"},
		{"secretsmanager/2017-10-17", "GetSecretValue", awsfake.TargetGetSecretValue, map[string]any{"SecretId": "adofleet/pat"}, ""},
		{"secretsmanager/2017-10-17", "GetSecretValue", awsfake.TargetGetSecretValue, map[string]any{"SecretId": "adofleet/bin"}, ""},
		{"secretsmanager/2017-10-17", "GetSecretValue", awsfake.TargetGetSecretValue, map[string]any{"SecretId": "nope"}, "ResourceNotFoundException"},
		{"kms/2014-11-01", "Decrypt", awsfake.TargetDecrypt, map[string]any{"CiphertextBlob": ct}, ""},
		{"kms/2014-11-01", "Decrypt", awsfake.TargetDecrypt, map[string]any{"CiphertextBlob": ctx, "EncryptionContext": map[string]any{"LambdaFunctionName": "notify"}}, ""},
		{"kms/2014-11-01", "Decrypt", awsfake.TargetDecrypt, map[string]any{"CiphertextBlob": ctx}, "InvalidCiphertextException"},
		{"kms/2014-11-01", "Decrypt", awsfake.TargetDecrypt, map[string]any{"CiphertextBlob": "bm9wZQ=="}, "InvalidCiphertextException"},
		{"kms/2014-11-01", "Decrypt", awsfake.TargetDecrypt, map[string]any{"CiphertextBlob": off}, "DisabledException"},
	}
	for _, tt := range tests {
		t.Run(tt.op+"/"+tt.wantErr, func(t *testing.T) {
			m := loadModel(t, tt.svc)
			if got, want := m.Metadata.TargetPrefix+"."+tt.op, tt.target; got != want {
				t.Errorf("model target = %q, fake answers %q", got, want)
			}
			if m.Metadata.Protocol != "json" || m.Metadata.JSONVersion != "1.1" {
				t.Errorf("model protocol = %s %s, want json 1.1", m.Metadata.Protocol, m.Metadata.JSONVersion)
			}
			op, ok := m.Operations[tt.op]
			if !ok {
				t.Fatalf("operation %s not in the model", tt.op)
			}
			conform(t, m, op.Input.Shape, "request", tt.req)
			status, out := post(t, s, tt.target, tt.req)
			if tt.wantErr == "" {
				if status != http.StatusOK {
					t.Fatalf("status = %d (%v), want 200", status, out)
				}
				conform(t, m, op.Output.Shape, "response", out)
				return
			}
			if got := out["__type"]; got != tt.wantErr {
				t.Errorf("__type = %v, want %s", got, tt.wantErr)
			}
			modeled := false
			for _, e := range op.Errors {
				modeled = modeled || e.Shape == tt.wantErr
			}
			if !modeled {
				t.Errorf("error %s is not among %s's modeled errors", tt.wantErr, tt.op)
			}
		})
	}
}

var fixedTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
