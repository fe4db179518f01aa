package ecsfake

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

const modelPath = "/usr/lib/python3/dist-packages/botocore/data/ecs/2014-11-13/service-2.json"

type model struct {
	Metadata struct {
		TargetPrefix string `json:"targetPrefix"`
		JSONVersion  string `json:"jsonVersion"`
	} `json:"metadata"`
	Operations map[string]struct {
		Input  struct{ Shape string } `json:"input"`
		Output struct{ Shape string } `json:"output"`
	} `json:"operations"`
	Shapes map[string]shape `json:"shapes"`
}

type shape struct {
	Type      string                            `json:"type"`
	Members   map[string]struct{ Shape string } `json:"members"`
	Member    struct{ Shape string }            `json:"member"`
	Exception bool                              `json:"exception"`
}

// newerThanModel are members the SDK in go.mod sends that Debian's botocore (1.29) predates:
// RunTask's clientToken arrived in the ECS API in 2024. Each is checked against the SDK instead.
var newerThanModel = map[string]reflect.Type{
	"RunTaskRequest.clientToken": reflect.TypeFor[ecs.RunTaskInput](),
}

// commonErrors are error codes every AWS JSON service may return without listing them per
// operation in its model.
var commonErrors = map[string]bool{"ThrottlingException": true, "SerializationException": true, "UnknownOperationException": true}

func loadModel(t *testing.T) model {
	t.Helper()
	b, err := os.ReadFile(modelPath)
	if os.IsNotExist(err) {
		t.Skipf("AWS model %s not found: install python3-botocore (.ci/run does) to check the fake's shapes", modelPath)
	}
	if err != nil {
		t.Fatalf("read model: %v", err)
	}
	var m model
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode model: %v", err)
	}
	return m
}

// TestWireMatchesModel checks every operation the fake answers, and every member it reads or
// writes, against the AWS model: the name exists on that shape, with a compatible type.
func TestWireMatchesModel(t *testing.T) {
	t.Parallel()
	m := loadModel(t)
	if got, want := m.Metadata.TargetPrefix+".", TargetPrefix; got != want {
		t.Errorf("target prefix: model %q, fake %q", got, want)
	}
	if m.Metadata.JSONVersion != "1.1" {
		t.Errorf("model JSON version %q, fake speaks 1.1", m.Metadata.JSONVersion)
	}
	ops := map[string][2]any{
		"RunTask":                {runTaskRequest{}, runTaskResponse{}},
		"StopTask":               {stopTaskRequest{}, stopTaskResponse{}},
		"ListTasks":              {listTasksRequest{}, listTasksResponse{}},
		"DescribeTasks":          {describeTasksRequest{}, describeTasksResponse{}},
		"DescribeTaskDefinition": {describeTaskDefinitionRequest{}, describeTaskDefinitionResponse{}},
	}
	for op, io := range ops {
		mop, ok := m.Operations[op]
		if !ok {
			t.Errorf("operation %s is not in the model", op)
			continue
		}
		checkShape(t, m, mop.Input.Shape, reflect.TypeOf(io[0]))
		checkShape(t, m, mop.Output.Shape, reflect.TypeOf(io[1]))
	}
	// Every error code the fake returns is an exception shape of the model, or a common one.
	src := readSources(t)
	for _, code := range regexp.MustCompile(`"([A-Za-z]+Exception)"`).FindAllStringSubmatch(src, -1) {
		if commonErrors[code[1]] {
			continue
		}
		if s, ok := m.Shapes[code[1]]; !ok || !s.Exception {
			t.Errorf("error code %s is not an exception of the model", code[1])
		}
	}
}

func checkShape(t *testing.T, m model, name string, typ reflect.Type) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	s, ok := m.Shapes[name]
	if !ok {
		t.Errorf("shape %s is not in the model", name)
		return
	}
	want := map[reflect.Kind][]string{
		reflect.String:  {"string"},
		reflect.Int:     {"integer", "long"},
		reflect.Bool:    {"boolean"},
		reflect.Float64: {"timestamp", "double"},
		reflect.Slice:   {"list"},
		reflect.Struct:  {"structure"},
	}[typ.Kind()]
	if !contains(want, s.Type) {
		t.Errorf("shape %s is a %s in the model; the fake uses a Go %s", name, s.Type, typ.Kind())
		return
	}
	switch typ.Kind() {
	case reflect.Slice:
		checkShape(t, m, s.Member.Shape, typ.Elem())
	case reflect.Struct:
		for f := range typ.Fields() {
			key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if key == "" || key == "-" {
				continue
			}
			member, ok := s.Members[key]
			if !ok {
				if sdk, newer := newerThanModel[name+"."+key]; newer {
					if _, ok := sdk.FieldByName(strings.ToUpper(key[:1]) + key[1:]); !ok {
						t.Errorf("%s.%s: neither in the model nor in the SDK's %s", name, key, sdk)
					}
					continue
				}
				t.Errorf("%s has no member %q (fake field %s.%s)", name, key, typ.Name(), f.Name)
				continue
			}
			checkShape(t, m, member.Shape, f.Type)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func readSources(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, f := range []string{"fake.go", "ops.go"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("read %s: %v", f, err)
		}
		b.Write(src)
	}
	return b.String()
}
