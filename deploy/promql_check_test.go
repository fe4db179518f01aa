package deploy_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// checkPromQL reads the metric names, label matchers and grouping labels of a PromQL expression
// (without a full parser: Grafana variables, strings and ranges are blanked first) and returns
// what does not match the metrics the code defines: unknown metrics, unknown labels, a counter
// read without rate or increase, a gauge inside one.
func checkPromQL(expr string, metrics map[string]registeredMetric) []string {
	var problems []string
	e := grafanaVar.ReplaceAllString(expr, "V")
	e = stringLiteral.ReplaceAllString(e, `""`)
	e = rangeSelector.ReplaceAllString(e, "")

	type use struct {
		name   string
		labels []string
		pos    int
	}
	var uses []use
	// Selectors with matchers: keep the name, drop the braces.
	for {
		loc := selector.FindStringSubmatchIndex(e)
		if loc == nil {
			break
		}
		var name string
		if loc[2] >= 0 {
			name = e[loc[2]:loc[3]]
		}
		var labels []string
		for _, m := range matcher.FindAllStringSubmatch(e[loc[4]:loc[5]], -1) {
			labels = append(labels, m[1])
		}
		if name == "" {
			problems = append(problems, "a selector without a metric name")
		} else {
			uses = append(uses, use{name: name, labels: labels, pos: loc[0]})
		}
		e = e[:loc[0]] + name + strings.Repeat(" ", loc[1]-loc[0]-len(name)) + e[loc[1]:]
	}
	var grouping []string
	e = groupingClause.ReplaceAllStringFunc(e, func(s string) string {
		inner := s[strings.Index(s, "(")+1 : len(s)-1]
		for _, l := range strings.Split(inner, ",") {
			if l = strings.TrimSpace(l); l != "" {
				grouping = append(grouping, l)
			}
		}
		return strings.Repeat(" ", len(s))
	})
	rated := ratedSpans(e)

	seen := map[int]bool{}
	for _, u := range uses {
		seen[u.pos] = true
	}
	for _, loc := range identifier.FindAllStringIndex(e, -1) {
		word := e[loc[0]:loc[1]]
		rest := strings.TrimLeft(e[loc[1]:], " \t\n")
		if strings.HasPrefix(rest, "(") || promqlKeywords[word] || seen[loc[0]] {
			continue
		}
		uses = append(uses, use{name: word, pos: loc[0]})
	}
	if len(uses) == 0 {
		return append(problems, "no metric")
	}

	allowed := slices.Clone(targetLabels)
	open := false
	for _, u := range uses {
		m, suffix, ok := resolveSeries(u.name, metrics)
		if !ok {
			problems = append(problems, fmt.Sprintf("metric %s is not defined by the code", u.name))
			continue
		}
		labels := append(slices.Clone(m.Labels), targetLabels...)
		if suffix == "_bucket" {
			labels = append(labels, "le")
		}
		allowed = append(allowed, labels...)
		open = open || m.OpenLabels
		for _, l := range u.labels {
			if !m.OpenLabels && !slices.Contains(labels, l) {
				problems = append(problems, fmt.Sprintf("%s has no label %s (labels: %v)", u.name, l, m.Labels))
			}
		}
		inRate := slices.ContainsFunc(rated, func(s [2]int) bool { return u.pos > s[0] && u.pos < s[1] })
		cumulative := m.Kind == "counter" || suffix != ""
		switch {
		case cumulative && !inRate:
			problems = append(problems, fmt.Sprintf("%s is cumulative; read it with rate() or increase()", u.name))
		case !cumulative && inRate && m.Kind != "untyped":
			problems = append(problems, fmt.Sprintf("%s is a %s; rate() and increase() are for counters", u.name, m.Kind))
		}
	}
	for _, l := range grouping {
		if !open && !slices.Contains(allowed, l) {
			problems = append(problems, fmt.Sprintf("grouping by %s, a label none of its metrics has", l))
		}
	}
	return problems
}

// resolveSeries finds the metric of a series name: itself, or a histogram's or summary's
// _bucket, _sum or _count.
func resolveSeries(name string, metrics map[string]registeredMetric) (registeredMetric, string, bool) {
	if m, ok := metrics[name]; ok {
		return m, "", true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		m, ok := metrics[base]
		if ok && (m.Kind == "histogram" || m.Kind == "summary" && suffix != "_bucket") {
			return m, suffix, true
		}
	}
	return registeredMetric{}, "", false
}

// ratedSpans returns the argument spans of rate, irate and increase calls.
func ratedSpans(e string) [][2]int {
	var out [][2]int
	for _, loc := range rateCall.FindAllStringIndex(e, -1) {
		depth := 0
		for i := loc[1] - 1; i < len(e); i++ {
			switch e[i] {
			case '(':
				depth++
			case ')':
				depth--
			}
			if depth == 0 {
				out = append(out, [2]int{loc[1] - 1, i})
				break
			}
		}
	}
	return out
}

var (
	grafanaVar     = regexp.MustCompile(`\$\{[^}]*\}|\$\w+`)
	stringLiteral  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	rangeSelector  = regexp.MustCompile(`\[[^\]]*\]`)
	selector       = regexp.MustCompile(`([A-Za-z_:][A-Za-z0-9_:]*)?\s*\{([^}]*)\}`)
	matcher        = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)`)
	groupingClause = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	identifier     = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
	rateCall       = regexp.MustCompile(`\b(rate|irate|increase)\s*\(`)
	promqlKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true,
		"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
		"inf": true, "nan": true, "Inf": true, "NaN": true, "V": true}
)

func TestCheckPromQL(t *testing.T) {
	t.Parallel()
	metrics := map[string]registeredMetric{
		"adofleet_jobs":            {Name: "adofleet_jobs", Kind: "gauge", Labels: []string{"pool", "state"}},
		"adofleet_calls_total":     {Name: "adofleet_calls_total", Kind: "counter", Labels: []string{"call"}},
		"adofleet_latency_seconds": {Name: "adofleet_latency_seconds", Kind: "histogram", Labels: []string{"call"}},
	}
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`sum by (pool) (adofleet_jobs{pool=~"$pool", state="queued"})`, nil},
		{`histogram_quantile(0.95, sum by (call, le) (rate(adofleet_latency_seconds_bucket[$__rate_interval])))`, nil},
		{`sum(rate(adofleet_calls_total{call!="x"}[5m])) / sum(rate(adofleet_calls_total[5m]))`, nil},
		{`adofleet_jobz`, []string{"metric adofleet_jobz is not defined by the code"}},
		{`adofleet_jobs{queue="a"}`, []string{"adofleet_jobs has no label queue (labels: [pool state])"}},
		{`sum by (route) (adofleet_jobs)`, []string{"grouping by route, a label none of its metrics has"}},
		{`adofleet_calls_total`, []string{"adofleet_calls_total is cumulative; read it with rate() or increase()"}},
		{`rate(adofleet_jobs[5m])`, []string{"adofleet_jobs is a gauge; rate() and increase() are for counters"}},
		{`{__name__="adofleet_jobs"}`, []string{"a selector without a metric name", "no metric"}},
	} {
		got := checkPromQL(tc.expr, metrics)
		if !slices.Equal(got, tc.want) {
			t.Errorf("checkPromQL(%s) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}
