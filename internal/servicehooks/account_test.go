package servicehooks_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/adofleet/adofleet/internal/servicehooks"
)

// stsModel is botocore's STS model, to keep the fake's answer in the service's shape.
const stsModel = "/usr/lib/python3/dist-packages/botocore/data/sts/2011-06-15/service-2.json"

// callerIdentityMembers are the members the fake answers with.
var callerIdentityMembers = []string{"Account", "Arn", "UserId"}

// stsFake answers GetCallerIdentity in the Query protocol, as STS does.
func stsFake(t *testing.T, account string) *sts.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("Action") != "GetCallerIdentity" || r.Form.Get("Version") != "2011-06-15" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>unexpected request</Message></Error></ErrorResponse>`)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:sts::%[1]s:assumed-role/adofleet/controller</Arn>
    <UserId>AROAEXAMPLEID:controller</UserId>
    <Account>%[1]s</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>8d1e5f0a-1111-4222-8333-944455556666</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`, account)
	}))
	t.Cleanup(srv.Close)
	return sts.New(sts.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
}

func TestResolveAccount(t *testing.T) {
	t.Parallel()
	got, err := servicehooks.ResolveAccount(t.Context(), stsFake(t, "210987654321"))
	if err != nil {
		t.Fatalf("ResolveAccount: %v", err)
	}
	if got != "210987654321" {
		t.Errorf("account = %q, want 210987654321", got)
	}
}

func TestResolveAccountFailsWithTheCall(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>`)
	}))
	t.Cleanup(srv.Close)
	c := sts.New(sts.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")})
	if _, err := servicehooks.ResolveAccount(t.Context(), c); err == nil {
		t.Fatal("ResolveAccount succeeded against a 403")
	}
}

// TestSTSFakeMatchesTheModel: the fake's members are those botocore's model gives the response.
func TestSTSFakeMatchesTheModel(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(stsModel)
	if err != nil {
		t.Skipf("botocore model not installed: %v", err)
	}
	var model struct {
		Metadata   struct{ Protocol string }
		Operations map[string]struct {
			Output struct {
				Shape         string
				ResultWrapper string
			}
		}
		Shapes map[string]struct {
			Members map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal(data, &model); err != nil {
		t.Fatal(err)
	}
	op := model.Operations["GetCallerIdentity"]
	if model.Metadata.Protocol != "query" || op.Output.ResultWrapper != "GetCallerIdentityResult" {
		t.Errorf("model: protocol %q wrapper %q, want query and GetCallerIdentityResult", model.Metadata.Protocol, op.Output.ResultWrapper)
	}
	var members []string
	for m := range model.Shapes[op.Output.Shape].Members {
		members = append(members, m)
	}
	slices.Sort(members)
	if !slices.Equal(members, callerIdentityMembers) {
		t.Errorf("model members %v, fake answers %v", members, callerIdentityMembers)
	}
}
