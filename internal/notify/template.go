package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"
	"time"
)

// Field is one labelled value of a message (a Slack section field, a Teams fact).
type Field struct {
	Name, Value string
}

// Message is an event rendered for people: what every target formats in its own way.
type Message struct {
	Type     EventType
	Severity Severity
	Pool     string
	Time     time.Time
	Title    string
	Text     string
	Fields   []Field
	// URL is a link to the pipeline run (or whatever the event is about); "" for none.
	URL string
	// Event is the event itself, for the generic webhook.
	Event Event
}

// funcs are the template functions; config validation parses with the same set.
var funcs = template.FuncMap{
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	// default returns def when s is empty: {{.Fields.pipeline | default "a pipeline"}}.
	"default": func(def, s string) string {
		if s == "" {
			return def
		}
		return s
	},
	// field returns a field's value or "": {{field . "pipelineUrl"}}.
	"field": func(e Event, key string) string { return e.Fields[key] },
	// trunc shortens s to n characters.
	"trunc": func(n int, s string) string { return truncate(s, n) },
}

// CheckTemplate parses s ("" is the default template and always valid).
func CheckTemplate(s string) error {
	_, err := parseTemplate("check", s)
	return err
}

func parseTemplate(name, s string) (*template.Template, error) {
	t, err := template.New(name).Funcs(funcs).Option("missingkey=zero").Parse(s)
	if err != nil {
		// text/template prefixes "template: NAME:"; the caller names the field.
		msg := strings.TrimPrefix(err.Error(), "template: "+name+":")
		return nil, fmt.Errorf("invalid template: line %s", msg)
	}
	return t, nil
}

// defaults is the default title, text and fields of one event type.
type defaults struct {
	title, text string
	fields      []fieldTemplate
}

type fieldTemplate struct{ name, value string }

// commonFields come after each type's own fields.
var poolField = fieldTemplate{"Pool", "{{.Pool}}"}

// defaultTemplates: one per event type; an unknown type gets fallbackDefaults.
var defaultTemplates = map[EventType]defaults{
	AgentStartFailed: {
		title:  "Agent failed to start in {{.Pool}}",
		text:   "{{.Summary}}",
		fields: []fieldTemplate{poolField, {"Agent", "{{.Fields.agent}}"}, {"Provider", "{{.Fields.provider}}"}, {"Reason", "{{.Fields.reason}}"}},
	},
	JobWaitedLong: {
		title:  "Job waiting for an agent in {{.Pool}}",
		text:   "{{.Summary}}",
		fields: []fieldTemplate{poolField, {"Job request", "{{.Fields.jobRequestId}}"}, {"Waited", "{{.Fields.waited}}"}, {"Threshold", "{{.Fields.threshold}}"}, {"Pipeline", "{{.Fields.pipeline}}"}},
	},
	PoolAtMax: {
		title:  "Pool {{.Pool}} at its maximum",
		text:   "{{.Summary}}",
		fields: []fieldTemplate{poolField, {"Max", "{{.Fields.max}}"}, {"Queued", "{{.Fields.queued}}"}, {"Since", "{{.Fields.since}}"}},
	},
	CheckCallbackFailed: {
		title:  "Check callback failed",
		text:   "{{.Summary}}",
		fields: []fieldTemplate{poolField, {"Plan", "{{.Fields.planId}}"}, {"Job", "{{.Fields.jobId}}"}, {"Reason", "{{.Fields.reason}}"}},
	},
	VMResourceDeregistered: {
		title:  "VM resource removed from {{.Fields.environment}}",
		text:   "{{.Summary}}",
		fields: []fieldTemplate{{"Instance", "{{.Fields.instance}}"}, {"Environment", "{{.Fields.environment}}"}, {"Project", "{{.Fields.project}}"}, {"Resource", "{{.Fields.resourceId}}"}},
	},
	VMResourceDeregisterFailed: {
		title:  "Removing a VM resource from {{.Fields.environment}} failed",
		text:   "{{.Summary}}",
		fields: []fieldTemplate{{"Instance", "{{.Fields.instance}}"}, {"Environment", "{{.Fields.environment}}"}, {"Project", "{{.Fields.project}}"}, {"Reason", "{{.Fields.reason}}"}},
	},
	OrphanTerminated: {
		title:  "Orphan instance terminated",
		text:   "{{.Summary}}",
		fields: []fieldTemplate{poolField, {"Instance", "{{.Fields.instance}}"}, {"Reason", "{{.Fields.reason}}"}},
	},
	APIThrottled: {
		title:  "{{.Fields.api | upper}} API throttled",
		text:   "{{.Summary}}",
		fields: []fieldTemplate{poolField, {"API", "{{.Fields.api}}"}, {"Operation", "{{.Fields.operation}}"}, {"Retry after", "{{.Fields.retryAfter}}"}},
	},
	RunCompleted: {
		title:  "{{.Fields.pipeline | default \"Pipeline\"}} {{.Fields.result | default \"completed\"}}",
		text:   "{{.Summary}}",
		fields: runFields(),
	},
	RunStageFailed: {
		title:  "{{.Fields.pipeline | default \"Pipeline\"}}: stage {{.Fields.stage}} {{.Fields.result | default \"failed\"}}",
		text:   "{{.Summary}}",
		fields: runFields(fieldTemplate{"Stage", "{{.Fields.stage}}"}),
	},
	RunJobFailed: {
		title:  "{{.Fields.pipeline | default \"Pipeline\"}}: job {{.Fields.job}} {{.Fields.result | default \"failed\"}}",
		text:   "{{.Summary}}",
		fields: runFields(fieldTemplate{"Stage", "{{.Fields.stage}}"}, fieldTemplate{"Job", "{{.Fields.job}}"}),
	},
}

// runFields are the fields of the run events, stage and job first when they have them.
func runFields(first ...fieldTemplate) []fieldTemplate {
	return append(first,
		fieldTemplate{"Pipeline", "{{.Fields.pipeline}}"}, fieldTemplate{"Result", "{{.Fields.result}}"}, fieldTemplate{"Run", "{{.Fields.runId}}"},
		fieldTemplate{"Branch", "{{.Fields.branch}}"}, fieldTemplate{"Commit", "{{printf \"%.8s\" .Fields.commit}}"}, fieldTemplate{"Requested by", "{{.Fields.requestedBy}}"},
		fieldTemplate{"Duration", "{{.Fields.duration}}"}, fieldTemplate{"Project", "{{.Fields.project}}"}, fieldTemplate{"Account", "{{.Fields.account}}"},
		fieldTemplate{"Region", "{{.Fields.region}}"},
	)
}

var fallbackDefaults = defaults{title: "{{.Type}}", text: "{{.Summary}}", fields: []fieldTemplate{poolField}}

// urlFields are the event fields that hold the link of a message, first found wins.
var urlFields = []string{"pipelineUrl", "runUrl", "url"}

// compiled is a route's parsed templates: its overrides and the defaults.
type compiled struct {
	title, text *template.Template // nil: no override
	defaults    map[EventType]compiledDefaults
}

type compiledDefaults struct {
	title, text *template.Template
	fields      []compiledField
}

type compiledField struct {
	name  string
	value *template.Template
}

var compiledDefaultTemplates = func() map[EventType]compiledDefaults {
	out := map[EventType]compiledDefaults{}
	for t, d := range defaultTemplates {
		out[t] = mustCompile(string(t), d)
	}
	out[""] = mustCompile("fallback", fallbackDefaults)
	return out
}()

func mustCompile(name string, d defaults) compiledDefaults {
	c := compiledDefaults{title: template.Must(parseTemplate(name+".title", d.title)), text: template.Must(parseTemplate(name+".text", d.text))}
	for _, f := range d.fields {
		c.fields = append(c.fields, compiledField{f.name, template.Must(parseTemplate(name+"."+f.name, f.value))})
	}
	return c
}

// compileRoute parses a route's overrides.
func compileRoute(r Route) (compiled, error) {
	c := compiled{defaults: compiledDefaultTemplates}
	var err error
	if r.Title != "" {
		if c.title, err = parseTemplate(r.Name+".title", r.Title); err != nil {
			return c, fmt.Errorf("route %s: title: %w", r.Name, err)
		}
	}
	if r.Text != "" {
		if c.text, err = parseTemplate(r.Name+".text", r.Text); err != nil {
			return c, fmt.Errorf("route %s: text: %w", r.Name, err)
		}
	}
	return c, nil
}

// render builds the message of e. A failing override falls back to the default, and the error is
// returned alongside for the caller to log; the message is always usable.
func (c compiled) render(e Event) (Message, []error) {
	d, ok := c.defaults[e.Type]
	if !ok {
		d = c.defaults[""]
	}
	var errs []error
	exec := func(override, def *template.Template, what string) string {
		if override != nil {
			s, err := execute(override, e)
			if err == nil {
				return s
			}
			errs = append(errs, fmt.Errorf("%s template: %w", what, err))
		}
		s, err := execute(def, e)
		if err != nil { // the defaults are tested; this is a bug, not the user's
			errs = append(errs, fmt.Errorf("default %s template: %w", what, err))
		}
		return s
	}
	m := Message{
		Type: e.Type, Severity: e.Severity, Pool: e.Pool, Time: e.Time, Event: e,
		Title: strings.TrimSpace(exec(c.title, d.title, "title")),
		Text:  strings.TrimSpace(exec(c.text, d.text, "text")),
	}
	if m.Title == "" {
		m.Title = string(e.Type)
	}
	for _, f := range d.fields {
		v, err := execute(f.value, e)
		if err != nil {
			errs = append(errs, fmt.Errorf("default field %s: %w", f.name, err))
		}
		if v = strings.TrimSpace(v); v != "" {
			m.Fields = append(m.Fields, Field{Name: f.name, Value: v})
		}
	}
	for _, k := range urlFields {
		if u := e.Fields[k]; isHTTPURL(u) {
			m.URL = u
			break
		}
	}
	return m, errs
}

func execute(t *template.Template, e Event) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, e); err != nil {
		return "", err
	}
	return b.String(), nil
}

func isHTTPURL(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

// truncate shortens s to at most n runes, ending with "…" when cut.
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n == 1 {
		return "…"
	}
	return string(r[:n-1]) + "…"
}

// fit cuts s (with truncate) until size(s) <= limit, where size grows with s but not
// proportionally to its runes (escaping): each step cuts in proportion to the excess.
func fit(s string, limit int, size func(string) int) string {
	for n := len([]rune(s)); n > 0; {
		got := size(s)
		if got <= limit {
			return s
		}
		n = n * limit / got
		if n >= len([]rune(s)) {
			n = len([]rune(s)) - 1
		}
		s = truncate(s, n)
	}
	return s
}

// marshal encodes v as JSON without HTML escaping (&, <, > stay as they are, readable).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
