package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// position is where a field sits in the file: its value for scalars, its key for mappings and
// lists (so a missing child is reported on its parent's line).
type position struct{ line, col int }

// decoder walks a yaml.Node tree into the Config structs by reflection over the yaml tags. It is
// ours, not yaml.v3's Decode, so that it can record every field's position, keep going after an
// error, and name fields by their full path.
type decoder struct {
	file string
	errs *Errors
	pos  map[string]position
	bad  map[string]bool // paths with a decode error: validation says nothing more about them
	// aliased counts the values decoded through aliases, which the YAML parser does not expand:
	// nested aliases could otherwise make a small file decode into millions of values.
	aliased, aliasDepth int
	aliasAt             position // the outermost alias being decoded: where the error points
	aliasPath           string
	aliasErr            bool
}

// maxAliasedValues bounds the values decoded through aliases in one file; a config that shares
// a few env or capability blocks stays far below it.
const maxAliasedValues = 10000

var durationType = reflect.TypeFor[Duration]()

func (d *decoder) errorAt(n *yaml.Node, path, format string, args ...any) {
	d.errorPos(position{n.Line, n.Column}, path, format, args...)
}

func (d *decoder) errorPos(p position, path, format string, args ...any) {
	if d.bad == nil {
		d.bad = map[string]bool{}
	}
	d.bad[path] = true
	d.errs.add(Error{File: d.file, Line: p.line, Column: p.col, Field: path, Message: fmt.Sprintf(format, args...)})
}

// decode sets v from n. A null (absent value, "~") leaves v at its zero value, so defaults apply.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		if d.aliasDepth == 0 {
			d.aliasAt, d.aliasPath = position{n.Line, n.Column}, path
		}
		d.aliasDepth++
		defer func() { d.aliasDepth-- }()
		for n.Kind == yaml.AliasNode {
			n = n.Alias
		}
	}
	if d.aliasDepth > 0 {
		if d.aliased++; d.aliased > maxAliasedValues {
			if !d.aliasErr {
				d.aliasErr = true
				d.errorPos(d.aliasAt, d.aliasPath, "aliases expand to more than %d values; write the values out or share fewer", maxAliasedValues)
			}
			return
		}
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	if v.Type() == durationType {
		d.duration(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.structFields(n, v, path)
	case reflect.Map:
		d.stringMap(n, v, path)
	case reflect.Slice:
		d.sequence(n, v, path)
	case reflect.String:
		// Any scalar reads as a string (env: {DEBUG: 1}). The value is never echoed: it may be a
		// secret.
		if d.want(n, yaml.ScalarNode, "a string", path) {
			v.SetString(n.Value)
		}
	case reflect.Int:
		if !d.want(n, yaml.ScalarNode, "an integer", path) {
			return
		}
		var i int
		if n.ShortTag() != "!!int" || n.Decode(&i) != nil {
			d.errorAt(n, path, "want an integer, got %q", n.Value)
			return
		}
		v.SetInt(int64(i))
	case reflect.Float64:
		if !d.want(n, yaml.ScalarNode, "a number", path) {
			return
		}
		var f float64
		if (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") || n.Decode(&f) != nil {
			d.errorAt(n, path, "want a number, got %q", n.Value)
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		if !d.want(n, yaml.ScalarNode, "true or false", path) {
			return
		}
		var b bool
		if n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.errorAt(n, path, "want true or false, got %q", n.Value)
			return
		}
		v.SetBool(b)
	default:
		panic(fmt.Sprintf("config: no decoder for %s at %s", v.Type(), path)) // a new field type
	}
}

// want reports whether n is of kind k, recording an error naming what was wanted if not.
func (d *decoder) want(n *yaml.Node, k yaml.Kind, what, path string) bool {
	if n.Kind == k {
		return true
	}
	p := position{n.Line, n.Column}
	if n.Kind != yaml.ScalarNode {
		// A block mapping or list starts on the line after its key: point at the key.
		if kp, ok := d.pos[path]; ok {
			p = kp
		}
	}
	d.errorPos(p, path, "want %s, got %s", what, kindName(n))
	return false
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value"
	}
	return "nothing"
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if !d.want(n, yaml.ScalarNode, "a duration", path) {
		return
	}
	t, err := time.ParseDuration(n.Value)
	switch {
	case err != nil:
		d.errorAt(n, path, "invalid duration %q: use a Go duration such as \"30s\", \"5m\" or \"1h30m\"", n.Value)
	case t <= 0:
		d.errorAt(n, path, "must be a positive duration, got %q", n.Value)
	default:
		v.SetInt(int64(t))
	}
}

// structFields decodes a mapping into a struct, one field per yaml tag. Unknown and duplicate keys
// are errors: a misspelt key silently ignored is a default silently applied.
func (d *decoder) structFields(n *yaml.Node, v reflect.Value, path string) {
	if !d.want(n, yaml.MappingNode, "a mapping", path) {
		return
	}
	fields := yamlFields(v.Type())
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		name, ok := d.key(k, path)
		if !ok {
			continue
		}
		child := joinPath(path, name)
		if name == "" {
			child = joinPath(path, `""`) // an empty key still gets a name in the message
		}
		if first, dup := seen[name]; dup {
			d.errorAt(k, child, "duplicate key; first set on line %d", first.Line)
			continue
		}
		seen[name] = k
		idx, known := fields.index[name]
		if !known {
			d.errorAt(k, child, "unknown field; %s", suggest(name, fields.names))
			continue
		}
		d.record(child, k, val)
		d.decode(val, v.Field(idx), child)
	}
}

// stringMap decodes a mapping of strings (capabilities, env).
func (d *decoder) stringMap(n *yaml.Node, v reflect.Value, path string) {
	if !d.want(n, yaml.MappingNode, "a mapping of strings", path) {
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		name, ok := d.key(k, path)
		if !ok {
			continue
		}
		child := mapKeyPath(path, name)
		if first, dup := seen[name]; dup {
			d.errorAt(k, child, "duplicate key; first set on line %d", first.Line)
			continue
		}
		seen[name] = k
		d.record(child, k, val)
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, elem, child)
		m.SetMapIndex(reflect.ValueOf(name), elem)
	}
	v.Set(m)
}

func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) {
	if !d.want(n, yaml.SequenceNode, "a list", path) {
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		child := path + "[" + strconv.Itoa(i) + "]"
		d.pos[child] = position{item.Line, item.Column}
		d.decode(item, s.Index(i), child)
	}
	v.Set(s)
}

// key returns a mapping key's text; keys must be plain scalars (no merge keys, no complex keys).
func (d *decoder) key(k *yaml.Node, path string) (string, bool) {
	if k.Kind != yaml.ScalarNode {
		d.errorAt(k, path, "mapping keys must be strings, got %s", kindName(k))
		return "", false
	}
	if k.ShortTag() == "!!merge" {
		d.errorAt(k, path, "YAML merge keys (<<) are not supported; repeat the fields")
		return "", false
	}
	return k.Value, true
}

// record remembers where path is: the value's position for scalars, the key's otherwise.
func (d *decoder) record(path string, k, val *yaml.Node) {
	if val.Kind == yaml.ScalarNode && val.ShortTag() != "!!null" {
		d.pos[path] = position{val.Line, val.Column}
		return
	}
	d.pos[path] = position{k.Line, k.Column}
}

// at returns the position of path, or of its nearest ancestor present in the file (so a missing
// required field is reported on its parent's line), or the zero position for the whole file.
func (d *decoder) at(path string) position {
	for path != "" {
		if p, ok := d.pos[path]; ok {
			return p
		}
		path = parentPath(path)
	}
	return position{}
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// mapKeyPath names a map entry: env.DEBUG, or capabilities["Agent.OS"] when the key is not a plain
// identifier.
func mapKeyPath(path, key string) string {
	if identRE.MatchString(key) {
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}

// parentPath drops the last segment of a path: pools[0].max -> pools[0] -> pools -> "".
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndex(path, "["); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndex(path, "."); i >= 0 {
		return path[:i]
	}
	return ""
}

// fieldSet is a struct's YAML field names in declaration order and their indexes.
type fieldSet struct {
	names []string
	index map[string]int
}

func yamlFields(t reflect.Type) fieldSet {
	fs := fieldSet{index: map[string]int{}}
	for i := range t.NumField() {
		name := yamlName(t.Field(i))
		if name == "" {
			continue
		}
		fs.names = append(fs.names, name)
		fs.index[name] = i
	}
	return fs
}

// yamlName is the key a struct field is written under, or "" for fields not in the file.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" || name == "" {
		return ""
	}
	return name
}
