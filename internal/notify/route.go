package notify

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// Kind is where a route delivers: a Slack incoming webhook, a Teams workflow webhook, or a
// generic JSON webhook signed with HMAC-SHA256.
type Kind string

const (
	KindSlack   Kind = "slack"
	KindTeams   Kind = "teams"
	KindWebhook Kind = "webhook"
)

// Kinds lists every Kind, for validation messages.
var Kinds = []Kind{KindSlack, KindTeams, KindWebhook}

// EventTypes lists every EventType, in the order of event.go.
var EventTypes = []EventType{
	AgentStartFailed, JobWaitedLong, PoolAtMax, CheckCallbackFailed, VMResourceDeregistered,
	VMResourceDeregisterFailed, OrphanTerminated, APIThrottled, RunCompleted, RunStageFailed, RunJobFailed,
}

// Severities lists every Severity, lowest first.
var Severities = []Severity{SeverityInfo, SeverityWarning, SeverityError}

// rank orders severities; an unknown severity ranks as info so it is never silently dropped by
// a route that takes everything.
func (s Severity) rank() int {
	if i := slices.Index(Severities, s); i >= 0 {
		return i
	}
	return 0
}

// Defaults of a Route's zero fields.
const (
	DefaultDedupWindow   = 10 * time.Minute
	DefaultRatePerMinute = 20
	DefaultMaxAttempts   = 8
)

// Route sends the events it selects to one receiver.
type Route struct {
	// Name identifies the route in the outbox, logs and metrics labels; it is not secret.
	Name string
	Kind Kind
	// URL is a secret reference (env:SLACK_WEBHOOK, kms:..., ssm:...) to the webhook URL,
	// resolved at send time.
	URL string
	// SigningSecret is a secret reference to the HMAC key (KindWebhook only).
	SigningSecret string
	// Events are event types or path.Match globs ("vmresource.*"); empty selects all.
	Events []string
	// Pools selects events of these pools; empty selects all, including events of no pool.
	Pools []string
	// MinSeverity drops events below it; "" takes all.
	MinSeverity Severity
	// Title and Text override the default templates (Go text/template over the Event).
	Title, Text string
	// DedupWindow: an event with the same dedup key as one enqueued within it is dropped.
	DedupWindow time.Duration
	// RatePerMinute bounds deliveries (a token bucket with a burst of the same size).
	RatePerMinute int
	// MaxAttempts: a message still failing after this many attempts is given up as dead.
	MaxAttempts int
}

func (r *Route) setDefaults() {
	if r.DedupWindow <= 0 {
		r.DedupWindow = DefaultDedupWindow
	}
	if r.RatePerMinute <= 0 {
		r.RatePerMinute = DefaultRatePerMinute
	}
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = DefaultMaxAttempts
	}
}

// Check reports the first problem of a route, naming the field (as the config spells it).
func (r Route) Check() error {
	if r.Name == "" {
		return fmt.Errorf("name: required")
	}
	if !slices.Contains(Kinds, r.Kind) {
		return fmt.Errorf("type: %q is not one of slack, teams, webhook", r.Kind)
	}
	if r.URL == "" {
		return fmt.Errorf("url: required (a secret reference to the webhook URL)")
	}
	if r.Kind == KindWebhook && r.SigningSecret == "" {
		return fmt.Errorf("signingSecret: required for a webhook route (receivers verify the signature with it)")
	}
	if r.Kind != KindWebhook && r.SigningSecret != "" {
		return fmt.Errorf("signingSecret: only webhook routes are signed")
	}
	for i, p := range r.Events {
		if err := CheckEventPattern(p); err != nil {
			return fmt.Errorf("events[%d]: %w", i, err)
		}
	}
	if r.MinSeverity != "" && !slices.Contains(Severities, r.MinSeverity) {
		return fmt.Errorf("minSeverity: %q is not one of info, warning, error", r.MinSeverity)
	}
	if err := CheckTemplate(r.Title); err != nil {
		return fmt.Errorf("title: %w", err)
	}
	if err := CheckTemplate(r.Text); err != nil {
		return fmt.Errorf("text: %w", err)
	}
	return nil
}

// CheckEventPattern reports whether p is a valid pattern that selects at least one event type.
func CheckEventPattern(p string) error {
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Errorf("%q is not a valid pattern: %w", p, err)
	}
	for _, t := range EventTypes {
		if ok, _ := path.Match(p, string(t)); ok {
			return nil
		}
	}
	names := make([]string, len(EventTypes))
	for i, t := range EventTypes {
		names[i] = string(t)
	}
	return fmt.Errorf("%q selects no event type; known types: %s", p, strings.Join(names, ", "))
}

// Matches reports whether the route takes e.
func (r Route) Matches(e Event) bool {
	if e.Severity.rank() < r.MinSeverity.rank() {
		return false
	}
	if len(r.Pools) > 0 && !slices.Contains(r.Pools, e.Pool) {
		return false
	}
	if len(r.Events) == 0 {
		return true
	}
	for _, p := range r.Events {
		if ok, _ := path.Match(p, string(e.Type)); ok {
			return true
		}
	}
	return false
}
