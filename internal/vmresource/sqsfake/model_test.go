package sqsfake

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// The fake's shapes are checked against botocore's SQS model (Debian python3-botocore). That model
// predates SQS's move to AWS JSON 1.0, but member names and error codes are the same in both
// protocols; JSON uses member names, never the query locationNames.
const modelPath = "/usr/lib/python3/dist-packages/botocore/data/sqs/2012-11-05/service-2.json"

// newerThanModel lists members the SDK sends that the installed model is too old to know.
var newerThanModel = map[string]string{
	"ReceiveMessageRequest.MessageSystemAttributeNames": "added in 2024 (replaces AttributeNames); sent by aws-sdk-go-v2 service/sqs",
}

type model struct {
	Operations map[string]struct {
		Input  struct{ Shape string } `json:"input"`
		Output struct{ Shape string } `json:"output"`
		Errors []struct{ Shape string }
	} `json:"operations"`
	Shapes map[string]shape `json:"shapes"`
}

type shape struct {
	Type    string                            `json:"type"`
	Members map[string]struct{ Shape string } `json:"members"`
	Member  struct{ Shape string }            `json:"member"`
	Value   struct{ Shape string }            `json:"value"`
	Error   *struct {
		Code string `json:"code"`
	} `json:"error"`
}

func loadModel(t *testing.T) model {
	t.Helper()
	data, err := os.ReadFile(modelPath)
	if err != nil {
		t.Skipf("botocore model not installed: %v", err)
	}
	var m model
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("decode %s: %v", modelPath, err)
	}
	return m
}

// check walks a Go type against a model shape: every JSON member must be a model member, and
// nested structures are checked the same way.
func (m model) check(t *testing.T, shapeName string, typ reflect.Type, path string) {
	t.Helper()
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
		sh := m.Shapes[shapeName]
		switch {
		case typ.Kind() == reflect.Slice && sh.Type == "list":
			shapeName = sh.Member.Shape
		case typ.Kind() == reflect.Map && sh.Type == "map":
			shapeName = sh.Value.Shape
		case typ.Kind() == reflect.Slice && sh.Type == "blob":
			return
		case typ.Kind() != reflect.Pointer:
			t.Errorf("%s: Go %s but model shape %s is %s", path, typ.Kind(), shapeName, sh.Type)
			return
		}
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct {
		return
	}
	sh, ok := m.Shapes[shapeName]
	if !ok || sh.Type != "structure" {
		t.Errorf("%s: model shape %s is not a structure", path, shapeName)
		return
	}
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		mem, ok := sh.Members[name]
		if !ok {
			if _, known := newerThanModel[shapeName+"."+name]; !known {
				t.Errorf("%s.%s: not a member of model shape %s", path, name, shapeName)
			}
			continue
		}
		m.check(t, mem.Shape, f.Type, path+"."+name)
	}
}

func TestShapesMatchModel(t *testing.T) {
	t.Parallel()
	m := loadModel(t)
	ops := []struct {
		op       string
		req, res any
	}{
		{"SendMessage", sendMessageRequest{}, sendMessageResult{}},
		{"ReceiveMessage", receiveMessageRequest{}, receiveMessageResult{}},
		{"DeleteMessage", deleteMessageRequest{}, nil},
		{"DeleteMessageBatch", deleteMessageBatchRequest{}, deleteMessageBatchResult{}},
		{"ChangeMessageVisibility", changeMessageVisibilityRequest{}, nil},
		{"GetQueueUrl", getQueueUrlRequest{}, getQueueUrlResult{}},
	}
	for _, o := range ops {
		op, ok := m.Operations[o.op]
		if !ok {
			t.Errorf("model has no operation %s", o.op)
			continue
		}
		m.check(t, op.Input.Shape, reflect.TypeOf(o.req), o.op+" request")
		if o.res == nil {
			if op.Output.Shape != "" {
				t.Errorf("%s: model output %s, the fake answers {}", o.op, op.Output.Shape)
			}
			continue
		}
		m.check(t, op.Output.Shape, reflect.TypeOf(o.res), o.op+" response")
	}
}

func TestErrorCodesMatchModel(t *testing.T) {
	t.Parallel()
	m := loadModel(t)
	for _, e := range []*apiError{
		errNoQueue(),
		{400, "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", "Sender", ""},
		{400, "TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "Sender", ""},
		{400, "BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "Sender", ""},
		{400, "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", "Sender", ""},
		{400, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", "Sender", ""},
		{400, "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", "Sender", ""},
	} {
		sh, ok := m.Shapes[e.shape]
		if !ok {
			t.Errorf("error %s: not a model shape", e.shape)
			continue
		}
		want := e.shape
		if sh.Error != nil && sh.Error.Code != "" {
			want = sh.Error.Code
		}
		if e.queryCode != want {
			t.Errorf("error %s: query code %q, model says %q", e.shape, e.queryCode, want)
		}
	}
}
