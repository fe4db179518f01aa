package scaler

import (
	"strconv"
	"strings"
)

// Satisfies reports whether an agent with these capabilities meets every demand, as ADO decides it:
//
//   - "name": the capability exists (any value).
//   - "name -equals value": the capability exists and its value equals value.
//   - "name -gtVersion 2.163.1": the capability exists and its version is at least 2.163.1
//     (ADO's "gt" is greater-or-equal).
//
// Capability names and -equals values compare case-insensitively. Operators are case-sensitive,
// as in ADO's parser; an unknown operator or a malformed demand is never satisfied.
func Satisfies(capabilities map[string]string, demands []string) bool {
	if len(demands) == 0 {
		return true
	}
	return satisfies(foldCaps(capabilities), demands)
}

// foldCaps returns the capabilities keyed by lower-cased name, so that Plan folds them once per
// cycle rather than once per job.
func foldCaps(capabilities map[string]string) map[string]string {
	out := make(map[string]string, len(capabilities))
	foldInto(out, capabilities)
	return out
}

// foldInto adds capabilities to out keyed by lower-cased name.
func foldInto(out, capabilities map[string]string) {
	for k, v := range capabilities {
		out[strings.ToLower(k)] = v
	}
}

// satisfies is Satisfies over capabilities already folded by foldCaps.
func satisfies(folded map[string]string, demands []string) bool {
	for _, d := range demands {
		if !satisfiesOne(folded, d) {
			return false
		}
	}
	return true
}

func satisfiesOne(folded map[string]string, demand string) bool {
	name, op, value, ok := parseDemand(demand)
	if !ok {
		return false
	}
	have, exists := folded[strings.ToLower(name)]
	if !exists {
		return false
	}
	switch op {
	case "":
		return true
	case "equals":
		return strings.EqualFold(have, value)
	case "gtVersion":
		return compareVersions(value, have) <= 0
	default:
		return false
	}
}

// parseDemand splits "name", or "name -op value" (value may hold spaces). Surrounding whitespace is
// ignored.
func parseDemand(demand string) (name, op, value string, ok bool) {
	demand = strings.TrimSpace(demand)
	if demand == "" {
		return "", "", "", false
	}
	i := strings.IndexAny(demand, " \t")
	if i < 0 {
		return demand, "", "", true
	}
	name, rest := demand[:i], strings.TrimLeft(demand[i:], " \t")
	if !strings.HasPrefix(rest, "-") {
		return "", "", "", false
	}
	j := strings.IndexAny(rest, " \t")
	if j < 0 {
		return "", "", "", false // an operator needs a value
	}
	op, value = rest[1:j], strings.TrimLeft(rest[j:], " \t")
	if op == "" || value == "" {
		return "", "", "", false
	}
	return name, op, value, true
}

// compareVersions compares two version strings the way ADO's minimum-version demand does: anything
// from the first '-' on (a pre-release label) is ignored; a version has 2 to 4 numeric components
// and a missing build or revision sorts before 0; a string that does not parse sorts before every
// version that does, and two such strings are equal. It returns -1, 0 or +1 for a < b, a == b, a > b.
func compareVersions(a, b string) int {
	va, oka := parseVersion(a)
	vb, okb := parseVersion(b)
	switch {
	case !oka && !okb:
		return 0
	case !oka:
		return -1
	case !okb:
		return 1
	}
	for i := range va {
		if va[i] != vb[i] {
			if va[i] < vb[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// parseVersion parses "major.minor[.build[.revision]]"; absent components are -1.
func parseVersion(s string) ([4]int64, bool) {
	v := [4]int64{-1, -1, -1, -1}
	if i := strings.IndexByte(s, '-'); i > 0 {
		s = s[:i]
	}
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) < 2 || len(parts) > 4 {
		return v, false
	}
	for i, p := range parts {
		if p == "" || p[0] == '+' || p[0] == '-' {
			return v, false
		}
		n, err := strconv.ParseInt(p, 10, 32)
		if err != nil {
			return v, false
		}
		v[i] = n
	}
	return v, true
}
