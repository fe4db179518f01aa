// Package awsmodel checks what a protocol fake reads and writes against the AWS service models
// that botocore ships as JSON, so a fake cannot drift from the real wire shapes unnoticed.
//
// It understands the two XML-speaking protocols the EC2 provider's fakes use: "ec2" (flattened
// lists in requests, queryName/locationName keys, <item> lists in responses) and "query" (Auto
// Scaling: ".member.N" lists, <OpResult> wrappers).
package awsmodel

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// Dir is where Debian's python3-botocore installs the models.
const Dir = "/usr/lib/python3/dist-packages/botocore/data"

// Model is one service's service-2.json.
type Model struct {
	Metadata struct {
		Protocol string `json:"protocol"`
	} `json:"metadata"`
	Operations map[string]struct {
		Input  *ref `json:"input"`
		Output *struct {
			Shape         string `json:"shape"`
			ResultWrapper string `json:"resultWrapper"`
		} `json:"output"`
	} `json:"operations"`
	Shapes map[string]shape `json:"shapes"`
}

type ref struct {
	Shape         string `json:"shape"`
	LocationName  string `json:"locationName"`
	QueryName     string `json:"queryName"`
	Flattened     bool   `json:"flattened"`
	XMLAttribute  bool   `json:"xmlAttribute"`
	Documentation string `json:"-"`
}

type shape struct {
	Type      string         `json:"type"`
	Members   map[string]ref `json:"members"`
	Member    *ref           `json:"member"`
	Flattened bool           `json:"flattened"`
}

// Load reads the newest model of service, skipping tb when botocore is not installed.
func Load(tb testing.TB, service string) *Model {
	tb.Helper()
	versions, err := filepath.Glob(filepath.Join(Dir, service, "*", "service-2.json"))
	if err != nil || len(versions) == 0 {
		tb.Skipf("AWS model for %s not found under %s (install python3-botocore to run this check)", service, Dir)
	}
	slices.Sort(versions)
	b, err := os.ReadFile(versions[len(versions)-1])
	if err != nil {
		tb.Fatalf("read %s model: %v", service, err)
	}
	var m Model
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatalf("parse %s model: %v", service, err)
	}
	return &m
}

// CheckInput verifies that the request parameter pattern (e.g. "TagSpecification.N.Tag.N.Key",
// "InstanceIds.member.N"; "N" stands for any list index) exists in op's input.
func (m *Model) CheckInput(op, param string) error {
	o, ok := m.Operations[op]
	if !ok {
		return fmt.Errorf("operation %s not in model", op)
	}
	if o.Input == nil {
		return fmt.Errorf("%s: has no input, yet %s was read", op, param)
	}
	segs := strings.Split(param, ".")
	cur := o.Input.Shape
	for i := 0; i < len(segs); i++ {
		seg := segs[i]
		sh, ok := m.Shapes[cur]
		if !ok {
			return fmt.Errorf("%s %s: shape %s missing", op, param, cur)
		}
		switch sh.Type {
		case "structure":
			next := ""
			for name, mem := range sh.Members {
				if m.inputName(name, mem) == seg {
					next = mem.Shape
					break
				}
			}
			if next == "" {
				return fmt.Errorf("%s %s: %s has no member serialised as %q", op, param, cur, seg)
			}
			cur = next
		case "list":
			flat := sh.Flattened || m.Metadata.Protocol == "ec2"
			if !flat {
				if seg != "member" {
					return fmt.Errorf("%s %s: list %s wants .member.N, got %q", op, param, cur, seg)
				}
				i++
				if i == len(segs) {
					return fmt.Errorf("%s %s: list %s needs an index", op, param, cur)
				}
				seg = segs[i]
			}
			if seg != "N" {
				return fmt.Errorf("%s %s: list %s wants an index, got %q", op, param, cur, seg)
			}
			cur = sh.Member.Shape
		default:
			return fmt.Errorf("%s %s: %s is a %s, cannot hold %q", op, param, cur, sh.Type, seg)
		}
	}
	if t := m.Shapes[cur].Type; t == "structure" || t == "list" {
		return fmt.Errorf("%s %s: ends at %s %s, not a scalar", op, param, t, cur)
	}
	return nil
}

// inputName is how a member is keyed in a request of the model's protocol.
func (m *Model) inputName(name string, mem ref) string {
	if m.Metadata.Protocol != "ec2" {
		if mem.LocationName != "" {
			return mem.LocationName
		}
		return name
	}
	switch {
	case mem.QueryName != "":
		return mem.QueryName
	case mem.LocationName != "":
		return upperFirst(mem.LocationName)
	default:
		return upperFirst(name)
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// CheckOutput verifies every element of the response struct v (encoding/xml tags; "a>b" nests a
// list's items) against op's output shape. For the query protocol v is the <OpResult> content.
// Elements named in skip (e.g. "requestId", which EC2 sends outside the model) are ignored.
func (m *Model) CheckOutput(op string, v any, skip ...string) []error {
	o, ok := m.Operations[op]
	if !ok {
		return []error{fmt.Errorf("operation %s not in model", op)}
	}
	t := reflect.TypeOf(v)
	var errs []error
	if o.Output == nil {
		// Only protocol metadata (requestId, EC2's <return>) may be written.
		m.Shapes["$none"] = shape{Type: "structure"}
		m.walkOutput(op, t, "$none", t.Name(), skip, &errs)
		return errs
	}
	m.walkOutput(op, t, o.Output.Shape, t.Name(), skip, &errs)
	return errs
}

// ResultWrapper is the <...Result> element of op's response in the query protocol.
func (m *Model) ResultWrapper(op string) string {
	o := m.Operations[op]
	if o.Output == nil {
		return ""
	}
	return o.Output.ResultWrapper
}

func (m *Model) walkOutput(op string, t reflect.Type, shapeName, path string, skip []string, errs *[]error) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	sh := m.Shapes[shapeName]
	if t.Kind() != reflect.Struct || t.String() == "time.Time" {
		if sh.Type == "structure" || sh.Type == "list" {
			*errs = append(*errs, fmt.Errorf("%s %s: scalar %s where the model has %s %s", op, path, t, sh.Type, shapeName))
		}
		return
	}
	if sh.Type != "structure" {
		*errs = append(*errs, fmt.Errorf("%s %s: struct where the model has %s %s", op, path, sh.Type, shapeName))
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			m.walkOutput(op, f.Type, shapeName, path, skip, errs)
			continue
		}
		full := f.Tag.Get("xml")
		tag := strings.Split(full, ",")[0]
		if f.Name == "XMLName" || tag == "-" || tag == "" || strings.Contains(full, ",attr") || slices.Contains(skip, tag) {
			continue
		}
		segs := strings.Split(tag, ">")
		memShape := ""
		for name, mem := range sh.Members {
			if outputName(name, mem) == segs[0] {
				memShape = mem.Shape
				break
			}
		}
		at := path + "." + segs[0]
		if memShape == "" {
			*errs = append(*errs, fmt.Errorf("%s %s: %s has no member written as <%s>", op, at, shapeName, segs[0]))
			continue
		}
		if ms := m.Shapes[memShape]; ms.Type == "list" {
			item := "member"
			if ms.Member.LocationName != "" {
				item = ms.Member.LocationName
			}
			if len(segs) != 2 || segs[1] != item {
				*errs = append(*errs, fmt.Errorf("%s %s: list %s items are <%s>, fake writes %q", op, at, memShape, item, tag))
				continue
			}
			m.walkOutput(op, f.Type, ms.Member.Shape, at+"."+item, skip, errs)
			continue
		}
		if len(segs) != 1 {
			*errs = append(*errs, fmt.Errorf("%s %s: %s is not a list, fake nests %q", op, at, memShape, tag))
			continue
		}
		m.walkOutput(op, f.Type, memShape, at, skip, errs)
	}
}

func outputName(name string, mem ref) string {
	if mem.LocationName != "" {
		return mem.LocationName
	}
	return name
}
