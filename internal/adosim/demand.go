package adosim

import (
	"fmt"
	"strconv"
	"strings"
)

// demand is one parsed ADO demand string. The agent's own parser accepts "name" (the capability
// exists) and "name -operator value"; the operators it knows are -equals (case-insensitive) and
// -gtVersion (the capability is a version at least value). "-exists" is accepted as a spelled-out
// form of the bare name.
type demand struct {
	name  string
	op    string // "exists", "equals", "gtversion"
	value string
}

func parseDemand(s string) (demand, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return demand{}, fmt.Errorf("empty demand")
	}
	name, rest, found := strings.Cut(s, " ")
	if !found {
		return demand{name: name, op: "exists"}, nil
	}
	rest = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, "-") {
		return demand{}, fmt.Errorf("demand %q: want \"name\" or \"name -operator value\"", s)
	}
	opWord, value, _ := strings.Cut(rest[1:], " ")
	value = strings.TrimSpace(value)
	switch op := strings.ToLower(opWord); op {
	case "exists":
		return demand{name: name, op: op}, nil
	case "equals", "gtversion":
		if value == "" {
			return demand{}, fmt.Errorf("demand %q: -%s needs a value", s, opWord)
		}
		return demand{name: name, op: op, value: value}, nil
	default:
		return demand{}, fmt.Errorf("demand %q: unknown operator -%s", s, opWord)
	}
}

func parseDemands(ss []string) ([]demand, error) {
	out := make([]demand, 0, len(ss))
	for _, s := range ss {
		d, err := parseDemand(s)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// lookupCapability finds a capability by name, ignoring case as ADO does.
func lookupCapability(caps map[string]string, name string) (string, bool) {
	if v, ok := caps[name]; ok {
		return v, true
	}
	for k, v := range caps {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

func (d demand) satisfiedBy(caps map[string]string) bool {
	v, ok := lookupCapability(caps, d.name)
	if !ok {
		return false
	}
	switch d.op {
	case "equals":
		return strings.EqualFold(v, d.value)
	case "gtversion":
		return versionAtLeast(v, d.value)
	default:
		return true
	}
}

func satisfiesAll(ds []demand, caps map[string]string) bool {
	for _, d := range ds {
		if !d.satisfiedBy(caps) {
			return false
		}
	}
	return true
}

// versionAtLeast compares dotted numeric versions; ADO's -gtVersion is satisfied by an equal
// version too. A value that is not a version satisfies nothing.
func versionAtLeast(have, want string) bool {
	h, ok1 := parseVersion(have)
	w, ok2 := parseVersion(want)
	if !ok1 || !ok2 {
		return false
	}
	for i := 0; i < max(len(h), len(w)); i++ {
		var a, b int
		if i < len(h) {
			a = h[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return a > b
		}
	}
	return true
}

func parseVersion(s string) ([]int, bool) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	out := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, false
		}
		out[i] = n
	}
	return out, len(out) > 0
}
