package provider

// ThrottleHook is told that a provider call failed because the cloud API throttled it: the
// provider's name, the operation (OpLaunch, OpTerminate, OpList) and the API's error code. It
// is called on the caller's goroutine and must not block.
type ThrottleHook func(provider, op, code string)

// InstrumentOption configures Instrument.
type InstrumentOption func(*instrumented)

// WithThrottleHook reports the calls that failed on throttling (after the SDK's own retries).
func WithThrottleHook(h ThrottleHook) InstrumentOption {
	return func(i *instrumented) { i.onThrottle = h }
}

// throttleCodes are the error codes AWS APIs answer when a caller exceeds its rate: the JSON
// protocols' ThrottlingException, the Query protocol's Throttling, EC2's RequestLimitExceeded,
// and the rarer per-service spellings.
var throttleCodes = map[string]bool{
	"Throttling":                             true,
	"ThrottlingException":                    true,
	"ThrottledException":                     true,
	"RequestLimitExceeded":                   true,
	"RequestThrottled":                       true,
	"RequestThrottledException":              true,
	"TooManyRequestsException":               true,
	"ProvisionedThroughputExceededException": true,
	"SlowDown":                               true,
	"PriorRequestNotComplete":                true,
	"BandwidthLimitExceeded":                 true,
	"EC2ThrottledException":                  true,
}

// coded is the shape of an API error that names its code (smithy.APIError has it); declared here
// so the provider package needs no cloud SDK.
type coded interface{ ErrorCode() string }

// ThrottleCode reports whether err (anywhere in its chain, including a PartialError's causes) is
// a throttling error, and its code.
func ThrottleCode(err error) (string, bool) {
	if err == nil {
		return "", false
	}
	var found string
	walk(err, func(e error) bool {
		if c, ok := e.(coded); ok && throttleCodes[c.ErrorCode()] {
			found = c.ErrorCode()
			return true
		}
		return false
	})
	return found, found != ""
}

// walk visits err and everything it wraps, depth first, until visit returns true.
func walk(err error, visit func(error) bool) bool {
	if err == nil {
		return false
	}
	if visit(err) {
		return true
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if walk(e, visit) {
				return true
			}
		}
	case interface{ Unwrap() error }:
		return walk(u.Unwrap(), visit)
	}
	return false
}
