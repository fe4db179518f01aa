package config

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/adofleet/adofleet/internal/notify"
)

// Notify routes events (agent failed to start, job waited long, run completed...) to Slack,
// Microsoft Teams and generic webhooks; see docs/notifications.md.
type Notify struct {
	Routes     []NotifyRoute    `yaml:"routes,omitempty" json:"routes,omitempty"`
	Thresholds NotifyThresholds `yaml:"thresholds,omitempty" json:"thresholds,omitempty"`
}

// NotifyRoute sends the events it selects to one receiver. It mirrors notify.Route.
type NotifyRoute struct {
	Name string `yaml:"name" json:"name"`
	// Type: slack, teams or webhook.
	Type string `yaml:"type" json:"type"`
	// URL is a secret reference to the webhook URL (its path is the credential).
	URL string `yaml:"url" json:"url"`
	// SigningSecret is a secret reference to the HMAC key of a webhook route.
	SigningSecret string   `yaml:"signingSecret,omitempty" json:"signingSecret,omitempty"`
	Events        []string `yaml:"events,omitempty" json:"events,omitempty"`
	Pools         []string `yaml:"pools,omitempty" json:"pools,omitempty"`
	MinSeverity   string   `yaml:"minSeverity,omitempty" json:"minSeverity,omitempty"`
	// Title and Text override the default templates (Go text/template over the event).
	Title         string   `yaml:"title,omitempty" json:"title,omitempty"`
	Text          string   `yaml:"text,omitempty" json:"text,omitempty"`
	DedupWindow   Duration `yaml:"dedupWindow,omitempty" json:"dedupWindow,omitempty"`
	RatePerMinute int      `yaml:"ratePerMinute,omitempty" json:"ratePerMinute,omitempty"`
	MaxAttempts   int      `yaml:"maxAttempts,omitempty" json:"maxAttempts,omitempty"`
}

// NotifyThresholds say when a slow situation becomes an event.
type NotifyThresholds struct {
	// JobWait: a job queued longer than this is reported (job.waited_long).
	JobWait Duration `yaml:"jobWait,omitempty" json:"jobWait,omitempty"`
	// PoolAtMax: a pool at its max longer than this is reported (pool.at_max).
	PoolAtMax Duration `yaml:"poolAtMax,omitempty" json:"poolAtMax,omitempty"`
}

// IsZero lets YAML omit an unset section.
func (t NotifyThresholds) IsZero() bool { return t == NotifyThresholds{} }

// Defaults of the notify section.
const (
	DefaultNotifyDedupWindow   = notify.DefaultDedupWindow
	DefaultNotifyRatePerMinute = notify.DefaultRatePerMinute
	DefaultNotifyMaxAttempts   = notify.DefaultMaxAttempts
	DefaultNotifyMinSeverity   = string(notify.SeverityInfo)
	DefaultNotifyJobWait       = 10 * time.Minute
	DefaultNotifyPoolAtMax     = 15 * time.Minute
)

// routeNameRE: route names appear in metrics labels and logs.
var routeNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// setDefaults fills the section's defaults; nil (not configured) stays nil.
func (n *Notify) setDefaults() {
	if n == nil {
		return
	}
	setDefault(&n.Thresholds.JobWait, Duration(DefaultNotifyJobWait))
	setDefault(&n.Thresholds.PoolAtMax, Duration(DefaultNotifyPoolAtMax))
	for i := range n.Routes {
		r := &n.Routes[i]
		setDefault(&r.DedupWindow, Duration(DefaultNotifyDedupWindow))
		setDefault(&r.RatePerMinute, DefaultNotifyRatePerMinute)
		setDefault(&r.MaxAttempts, DefaultNotifyMaxAttempts)
		setDefault(&r.MinSeverity, DefaultNotifyMinSeverity)
	}
}

// NotifyThresholds returns notify.thresholds with its defaults, also when the section is absent
// (events are then produced and discarded).
func (c *Config) NotifyThresholds() NotifyThresholds {
	t := NotifyThresholds{}
	if c.Notify != nil {
		t = c.Notify.Thresholds
	}
	setDefault(&t.JobWait, Duration(DefaultNotifyJobWait))
	setDefault(&t.PoolAtMax, Duration(DefaultNotifyPoolAtMax))
	return t
}

// NotifyRoutes converts the routes for notify.New; none when the section is absent.
func (c *Config) NotifyRoutes() []notify.Route {
	if c.Notify == nil {
		return nil
	}
	n := c.Notify
	out := make([]notify.Route, 0, len(n.Routes))
	for _, r := range n.Routes {
		out = append(out, notify.Route{
			Name: r.Name, Kind: notify.Kind(r.Type), URL: r.URL, SigningSecret: r.SigningSecret,
			Events: r.Events, Pools: r.Pools, MinSeverity: notify.Severity(r.MinSeverity),
			Title: r.Title, Text: r.Text, DedupWindow: r.DedupWindow.D(),
			RatePerMinute: r.RatePerMinute, MaxAttempts: r.MaxAttempts,
		})
	}
	return out
}

func (v validator) notify(n *Notify, pools []Pool) {
	if n == nil {
		return
	}
	v.positive("notify.thresholds.jobWait", n.Thresholds.JobWait)
	v.positive("notify.thresholds.poolAtMax", n.Thresholds.PoolAtMax)
	first := map[string]int{}
	for i, r := range n.Routes {
		at := "notify.routes[" + strconv.Itoa(i) + "]"
		switch j, dup := first[r.Name]; {
		case r.Name == "":
			v.errorf(at+".name", "required: names the route in logs and metrics")
		case !routeNameRE.MatchString(r.Name):
			v.errorf(at+".name", "must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit; got %q", r.Name)
		case dup:
			v.errorf(at+".name", "duplicate route name %q; first used by notify.routes[%d]", r.Name, j)
		default:
			first[r.Name] = i
		}
		v.notifyRoute(at, r, pools)
	}
}

func (v validator) notifyRoute(at string, r NotifyRoute, pools []Pool) {
	kinds := make([]string, 0, len(notify.Kinds))
	for _, k := range notify.Kinds {
		kinds = append(kinds, string(k))
	}
	if !slices.Contains(kinds, r.Type) {
		v.errorf(at+".type", "must be one of %s; got %q", strings.Join(kinds, ", "), r.Type)
	}
	switch {
	case r.URL == "":
		v.errorf(at+".url", "required: a secret reference to the webhook URL, e.g. env:SLACK_WEBHOOK_URL or kms:BASE64 (the URL itself is a credential)")
	case strings.Contains(r.URL, "://"):
		// Never echoed: the path of a webhook URL is its credential.
		v.errorf(at+".url", "looks like the webhook URL itself (not shown), which is a credential; keep it in an environment variable, a file, SSM, Secrets Manager or a KMS ciphertext and write env:NAME, file:PATH, ssm:/NAME, secretsmanager:NAME or kms:BASE64")
	default:
		v.secretRef(at+".url", r.URL)
	}
	v.secretRef(at+".signingSecret", r.SigningSecret)
	switch {
	case r.Type == string(notify.KindWebhook) && r.SigningSecret == "":
		v.errorf(at+".signingSecret", "required for a webhook route: receivers verify the X-Adofleet-Signature header with it")
	case r.Type != string(notify.KindWebhook) && r.SigningSecret != "":
		v.errorf(at+".signingSecret", "only webhook routes are signed; remove it from this %s route", r.Type)
	}
	for i, e := range r.Events {
		if err := notify.CheckEventPattern(e); err != nil {
			v.errorf(at+".events["+strconv.Itoa(i)+"]", "%v", err)
		}
	}
	for i, p := range r.Pools {
		if !slices.ContainsFunc(pools, func(c Pool) bool { return c.Name == p }) {
			v.errorf(at+".pools["+strconv.Itoa(i)+"]", "pool %q is not configured under pools", p)
		}
	}
	sev := make([]string, 0, len(notify.Severities))
	for _, s := range notify.Severities {
		sev = append(sev, string(s))
	}
	if !slices.Contains(sev, r.MinSeverity) {
		v.errorf(at+".minSeverity", "must be one of %s; got %q", strings.Join(sev, ", "), r.MinSeverity)
	}
	if err := notify.CheckTemplate(r.Title); err != nil {
		v.errorf(at+".title", "%v", err)
	}
	if err := notify.CheckTemplate(r.Text); err != nil {
		v.errorf(at+".text", "%v", err)
	}
	v.positive(at+".dedupWindow", r.DedupWindow)
	if r.RatePerMinute < 0 {
		v.errorf(at+".ratePerMinute", "must be positive, got %d", r.RatePerMinute)
	}
	if r.MaxAttempts < 0 {
		v.errorf(at+".maxAttempts", "must be positive, got %d", r.MaxAttempts)
	}
}

// notifyDocs are the section's schema and reference entries, merged into the tables.
var notifyDocs = map[string]fieldMeta{
	"Config.notify": {doc: "Notifications to Slack, Microsoft Teams and generic webhooks (off unless a route is set; see docs/notifications.md)."},

	"Notify.routes":     {doc: "Where events go: each route sends the events it selects to one receiver."},
	"Notify.thresholds": {doc: "When a slow situation becomes an event."},

	"NotifyRoute.name":          {doc: "Names the route in logs, metrics labels and the outbox.", required: true, pattern: routeNameRE.String()},
	"NotifyRoute.type":          {doc: "slack (incoming webhook, Block Kit), teams (Workflows webhook, Adaptive Card) or webhook (generic JSON, signed with HMAC-SHA256).", required: true, enum: []string{"slack", "teams", "webhook"}},
	"NotifyRoute.url":           {doc: "Secret reference to the webhook URL (env:, file:, ssm:, secretsmanager:, kms:, kmsfile:), resolved at send time; the URL is a credential and is never logged.", required: true, secret: true},
	"NotifyRoute.signingSecret": {doc: "Secret reference to the HMAC-SHA256 key that signs a webhook route's deliveries (X-Adofleet-Signature); required for and only for type webhook.", secret: true},
	"NotifyRoute.events":        {doc: `Event types to send, or globs such as "vmresource.*". Default: all. Types: agent.start_failed, job.waited_long, pool.at_max, check.callback_failed, vmresource.deregistered, vmresource.deregister_failed, orphan.terminated, api.throttled, run.completed, run.stage_failed, run.job_failed.`},
	"NotifyRoute.pools":         {doc: "Pools whose events to send. Default: all, and events of no pool."},
	"NotifyRoute.minSeverity":   {doc: "Least severity sent.", def: DefaultNotifyMinSeverity, enum: []string{"info", "warning", "error"}},
	"NotifyRoute.title":         {doc: `Go text/template of the title over the event (.Type, .Severity, .Pool, .Summary, .Fields.NAME, .Time), e.g. "{{.Pool}}: {{.Summary}}". Default: one per event type. A template that fails at send time falls back to the default.`},
	"NotifyRoute.text":          {doc: "Go text/template of the text, as title. Default: the event's summary."},
	"NotifyRoute.dedupWindow":   {doc: "An identical alert (same type, pool and summary, or the same dedup key) sent within this window is dropped.", def: "10m"},
	"NotifyRoute.ratePerMinute": {doc: "Most deliveries per minute to this receiver (a token bucket with as large a burst); the rest wait in the outbox.", def: DefaultNotifyRatePerMinute, minimum: intp(0)},
	"NotifyRoute.maxAttempts":   {doc: "Attempts (429, 5xx and network errors are retried with exponential backoff, honouring Retry-After) before a message is given up as dead.", def: DefaultNotifyMaxAttempts, minimum: intp(0)},

	"NotifyThresholds.jobWait":   {doc: "A job queued longer than this is reported (job.waited_long).", def: "10m"},
	"NotifyThresholds.poolAtMax": {doc: "A pool at its max longer than this is reported (pool.at_max).", def: "15m"},
}

var notifyTypeDocs = map[string]string{
	"Notify":           "Notifications to Slack, Microsoft Teams and generic webhooks, delivered through a durable outbox in the store.",
	"NotifyRoute":      "One receiver and the events it takes.",
	"NotifyThresholds": "When a slow situation becomes an event.",
}

func init() {
	maps.Copy(fieldDocs, notifyDocs)
	maps.Copy(typeDocs, notifyTypeDocs)
}
