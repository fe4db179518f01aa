package cwfake_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/adofleet/adofleet/internal/cloudwatch/cwfake"
)

const model = "/usr/lib/python3/dist-packages/botocore/data/cloudwatch/2010-08-01/service-2.json"

type botoModel struct {
	Operations map[string]struct {
		Input  struct{ Shape string }   `json:"input"`
		Errors []struct{ Shape string } `json:"errors"`
	} `json:"operations"`
	Shapes map[string]struct {
		Members map[string]struct{ Shape string } `json:"members"`
		Member  struct{ Shape string }            `json:"member"`
		Error   struct {
			Code string `json:"code"`
		} `json:"error"`
	} `json:"shapes"`
}

func load(t *testing.T) *botoModel {
	t.Helper()
	if _, err := os.Stat(filepath.Dir(model)); err != nil {
		t.Skipf("botocore model not installed at %s (apt-get install python3-botocore): %v", model, err)
	}
	b, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	var m botoModel
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// TestFakeMatchesBotocoreModel sends every member the publisher uses through the real client and
// checks that each CBOR key the fake decoded is a member of its botocore shape, and that the
// errors the fake answers are modeled with the Query codes it puts in X-Amzn-Query-Error.
// (Debian's model still says protocol "query"; member names are the same in every protocol.)
func TestFakeMatchesBotocoreModel(t *testing.T) {
	t.Parallel()
	m := load(t)
	op, ok := m.Operations["PutMetricData"]
	if !ok {
		t.Fatal("PutMetricData not in the model")
	}
	datumList := m.Shapes[m.Shapes[op.Input.Shape].Members["MetricData"].Shape].Member.Shape
	dimList := m.Shapes[m.Shapes[datumList].Members["Dimensions"].Shape].Member.Shape

	s := cwfake.New(t)
	c := cw.NewFromConfig(s.Config())
	in := &cw.PutMetricDataInput{
		Namespace: aws.String("adofleet"),
		MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String("QueueDepth"),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("Pool"), Value: aws.String("linux")}},
			Timestamp:  aws.Time(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
			Value:      aws.Float64(7),
			Unit:       cwtypes.StandardUnitCount,
		}},
	}
	if _, err := c.PutMetricData(context.Background(), in); err != nil {
		t.Fatalf("PutMetricData: %v", err)
	}
	calls := s.Calls()
	if len(calls) != 1 {
		t.Fatalf("calls = %d, want 1", len(calls))
	}
	for level, shape := range map[string]string{"input": op.Input.Shape, "datum": datumList, "dimension": dimList} {
		if len(calls[0].Keys[level]) == 0 {
			t.Errorf("no %s keys decoded", level)
		}
		for _, k := range calls[0].Keys[level] {
			if _, ok := m.Shapes[shape].Members[k]; !ok {
				t.Errorf("%s key %q is not a member of %s", level, k, shape)
			}
		}
	}

	for _, code := range []string{"InvalidParameterValueException", "InternalServiceFault"} {
		modeled := false
		for _, e := range op.Errors {
			modeled = modeled || e.Shape == code
		}
		if !modeled {
			t.Errorf("%s is not a modeled PutMetricData error", code)
			continue
		}
		s.FailNext(code)
		_, err := c.PutMetricData(context.Background(), in)
		var ae smithy.APIError
		if !errors.As(err, &ae) {
			t.Fatalf("%s: error %v is not an APIError", code, err)
		}
		if got, want := ae.ErrorCode(), m.Shapes[code].Error.Code; got != want {
			t.Errorf("%s: ErrorCode() = %q, want the model's Query code %q", code, got, want)
		}
	}
}
