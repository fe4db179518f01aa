package faultinject

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Rates are the probabilities of each fault, in [0, 1], and the durations the faults use. The ADO
// rates are drawn once per request and are exclusive (at most one fault a request), so their sum
// must not exceed 1; likewise LaunchFail and LaunchLate per Launch call.
type Rates struct {
	// Per ADO request (the FaultFunc of ADO).
	ADOThrottle    float64 // 429 with Retry-After and X-RateLimit-* headers
	ADOServerError float64 // 500, or 503 with Retry-After (half each)
	ADOTimeout     float64 // the request hangs for Timeout, then 504: the client's own timeout ends it first
	ADOSlow        float64 // the request is held for Slow, then served
	// Per ADO request through Transport: the request is served, its response lost.
	ADOLost float64

	// Per provider call.
	LaunchFail    float64 // the launch fails: before starting anything, part-way, or after (response lost)
	LaunchLate    float64 // the instances start LateBy late (or the call takes LateBy, see Provider)
	InstanceLoss  float64 // per alive instance per List call (once per pool per cycle): a spot interruption
	TerminateFail float64 // the terminate fails, before or after it took effect

	// Per store write.
	StoreWriteFail float64 // the write fails, before or after it took effect (half each)
	// Per leader-lease write (AcquireLease, ReleaseLease): drawn from its own stream, so lease
	// faults do not move the other store faults.
	LeaseWriteFail float64 // the lease write fails, before or after it took effect (half each)

	RetryAfter time.Duration // Retry-After of a 429 or 503 (default DefaultRetryAfter)
	Timeout    time.Duration // how long a timed-out request hangs (default DefaultTimeout)
	Slow       time.Duration // how long a slow request is held (default DefaultSlow)
	LateBy     time.Duration // how late a late launch starts (default DefaultLateBy)
}

// Defaults for the durations of Rates.
const (
	DefaultRetryAfter = 3 * time.Second
	DefaultTimeout    = 2 * time.Minute // longer than the ADO client's 30 s per-attempt timeout
	DefaultSlow       = 4 * time.Second
	DefaultLateBy     = 5 * time.Minute
)

// Moderate is a mix of every fault at rates a soak run survives with its pools still serving.
var Moderate = Rates{
	ADOThrottle: 0.02, ADOServerError: 0.02, ADOTimeout: 0.005, ADOSlow: 0.02, ADOLost: 0.01,
	LaunchFail: 0.1, LaunchLate: 0.05, InstanceLoss: 0.005, TerminateFail: 0.05,
	StoreWriteFail: 0.02,
}

// WithDefaults returns r with zero durations set to their defaults.
func (r Rates) WithDefaults() Rates {
	if r.RetryAfter <= 0 {
		r.RetryAfter = DefaultRetryAfter
	}
	if r.Timeout <= 0 {
		r.Timeout = DefaultTimeout
	}
	if r.Slow <= 0 {
		r.Slow = DefaultSlow
	}
	if r.LateBy <= 0 {
		r.LateBy = DefaultLateBy
	}
	return r
}

// Zero reports whether no fault is enabled.
func (r Rates) Zero() bool {
	return r.ADOThrottle == 0 && r.ADOServerError == 0 && r.ADOTimeout == 0 && r.ADOSlow == 0 &&
		r.ADOLost == 0 && r.LaunchFail == 0 && r.LaunchLate == 0 && r.InstanceLoss == 0 &&
		r.TerminateFail == 0 && r.StoreWriteFail == 0 && r.LeaseWriteFail == 0
}

// rateKey is one key of the ParseRates syntax.
type rateKey struct {
	name  string
	rate  func(*Rates) *float64
	dur   func(*Rates) *time.Duration
	about string
}

var rateKeys = []rateKey{
	{name: "ado429", rate: func(r *Rates) *float64 { return &r.ADOThrottle }, about: "ADO request answered 429"},
	{name: "ado500", rate: func(r *Rates) *float64 { return &r.ADOServerError }, about: "ADO request answered 500/503"},
	{name: "adotimeout", rate: func(r *Rates) *float64 { return &r.ADOTimeout }, about: "ADO request hangs"},
	{name: "adoslow", rate: func(r *Rates) *float64 { return &r.ADOSlow }, about: "ADO request slow"},
	{name: "adolost", rate: func(r *Rates) *float64 { return &r.ADOLost }, about: "ADO response lost after the request took effect"},
	{name: "launchfail", rate: func(r *Rates) *float64 { return &r.LaunchFail }, about: "provider launch fails"},
	{name: "launchlate", rate: func(r *Rates) *float64 { return &r.LaunchLate }, about: "provider launch starts late"},
	{name: "loss", rate: func(r *Rates) *float64 { return &r.InstanceLoss }, about: "instance lost, per instance per cycle"},
	{name: "terminatefail", rate: func(r *Rates) *float64 { return &r.TerminateFail }, about: "provider terminate fails"},
	{name: "storefail", rate: func(r *Rates) *float64 { return &r.StoreWriteFail }, about: "store write fails"},
	{name: "leasefail", rate: func(r *Rates) *float64 { return &r.LeaseWriteFail }, about: "leader lease write fails"},
	{name: "retryafter", dur: func(r *Rates) *time.Duration { return &r.RetryAfter }},
	{name: "timeout", dur: func(r *Rates) *time.Duration { return &r.Timeout }},
	{name: "slow", dur: func(r *Rates) *time.Duration { return &r.Slow }},
	{name: "late", dur: func(r *Rates) *time.Duration { return &r.LateBy }},
}

// ParseRates reads a comma-separated list of key=value pairs, e.g.
// "ado429=0.05,ado500=0.02,launchfail=0.1,retryafter=5s". Rates are numbers in [0, 1]; the keys
// retryafter, timeout, slow and late take Go durations. The word "moderate" (alone or first)
// starts from Moderate; "" and "none" mean no faults. Durations left unset get their defaults.
func ParseRates(spec string) (Rates, error) {
	var r Rates
	spec = strings.TrimSpace(spec)
	if spec == "" || strings.EqualFold(spec, "none") {
		return r.WithDefaults(), nil
	}
	seen := map[string]bool{}
	for i, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if i == 0 && strings.EqualFold(part, "moderate") {
			r = Moderate
			continue
		}
		if strings.EqualFold(part, "moderate") {
			return Rates{}, fmt.Errorf("fault rates %q: \"moderate\" must come first, the keys after it override it", spec)
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if !ok || k == "" {
			return Rates{}, fmt.Errorf("fault rates %q: item %d %q: want key=value (keys: %s)", spec, i+1, part, keyNames())
		}
		idx := slices.IndexFunc(rateKeys, func(rk rateKey) bool { return rk.name == k })
		if idx < 0 {
			return Rates{}, fmt.Errorf("fault rates %q: unknown key %q (keys: %s)", spec, k, keyNames())
		}
		if seen[k] {
			return Rates{}, fmt.Errorf("fault rates %q: key %q given twice", spec, k)
		}
		seen[k] = true
		rk := rateKeys[idx]
		if rk.dur != nil {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return Rates{}, fmt.Errorf("fault rates %q: %s=%q: want a positive duration such as 5s", spec, k, v)
			}
			*rk.dur(&r) = d
			continue
		}
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || p < 0 || p > 1 {
			return Rates{}, fmt.Errorf("fault rates %q: %s=%q: want a probability between 0 and 1", spec, k, v)
		}
		*rk.rate(&r) = p
	}
	if err := r.Validate(); err != nil {
		return Rates{}, fmt.Errorf("fault rates %q: %w", spec, err)
	}
	return r.WithDefaults(), nil
}

// Validate checks every rate is in [0, 1] and the exclusive groups sum to at most 1.
func (r Rates) Validate() error {
	var errs []error
	for _, rk := range rateKeys {
		if rk.rate == nil {
			continue
		}
		if p := *rk.rate(&r); p < 0 || p > 1 {
			errs = append(errs, fmt.Errorf("%s is %g, want between 0 and 1", rk.name, p))
		}
	}
	if s := r.ADOThrottle + r.ADOServerError + r.ADOTimeout + r.ADOSlow; s > 1 {
		errs = append(errs, fmt.Errorf("ado429+ado500+adotimeout+adoslow is %g, want at most 1", s))
	}
	if s := r.LaunchFail + r.LaunchLate; s > 1 {
		errs = append(errs, fmt.Errorf("launchfail+launchlate is %g, want at most 1", s))
	}
	return errors.Join(errs...)
}

// String renders r in the ParseRates syntax (non-zero rates and every duration).
func (r Rates) String() string {
	r = r.WithDefaults()
	var parts []string
	for _, rk := range rateKeys {
		switch {
		case rk.rate != nil && *rk.rate(&r) != 0:
			parts = append(parts, rk.name+"="+strconv.FormatFloat(*rk.rate(&r), 'g', -1, 64))
		case rk.dur != nil:
			parts = append(parts, rk.name+"="+rk.dur(&r).String())
		}
	}
	return strings.Join(parts, ",")
}

func keyNames() string {
	names := make([]string, len(rateKeys))
	for i, rk := range rateKeys {
		names[i] = rk.name
	}
	return strings.Join(names, ", ")
}
