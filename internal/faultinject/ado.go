package faultinject

import (
	"fmt"
	"io"
	"net/http"

	"github.com/adofleet/adofleet/internal/adosim"
)

// ADO returns a FaultFunc for adosim.Server.SetFaults injecting r's ADO faults with seed. Its
// counts are not reachable; use New(seed, r).ADO() to read them.
func ADO(seed int64, r Rates) adosim.FaultFunc { return New(seed, r).ADO() }

// ADO returns a FaultFunc for adosim.Server.SetFaults. Each request draws once: a 429 with
// Retry-After, a 500 or a 503 with Retry-After, a hang of Rates.Timeout ending in a 504 (a client
// with a shorter timeout gives up first; the request never takes effect), or a delay of Rates.Slow
// before the request is served. The server applies faults before the handler runs, so a failed
// request changed nothing; Transport adds the ambiguous case. Give simulated agents a second
// Server on the same Org without faults when only the controller's calls should fail.
func (in *Injector) ADO() adosim.FaultFunc {
	s := in.stream(streamADO)
	r := in.rates
	return func(*http.Request) *adosim.Fault {
		u, pick := s.float(), s.intN(2)
		if !in.Enabled() {
			return nil
		}
		switch {
		case u < r.ADOThrottle:
			in.count(FaultADOThrottle)
			return adosim.RateLimited(r.RetryAfter)
		case u < r.ADOThrottle+r.ADOServerError:
			in.count(FaultADOServerError)
			if pick == 0 {
				return &adosim.Fault{Status: http.StatusInternalServerError, Message: "injected internal server error"}
			}
			return &adosim.Fault{Status: http.StatusServiceUnavailable, RetryAfter: r.RetryAfter,
				Message: "injected: service unavailable"}
		case u < r.ADOThrottle+r.ADOServerError+r.ADOTimeout:
			in.count(FaultADOTimeout)
			return &adosim.Fault{Status: http.StatusGatewayTimeout, Delay: r.Timeout, Message: "injected: gateway timeout"}
		case u < r.ADOThrottle+r.ADOServerError+r.ADOTimeout+r.ADOSlow:
			in.count(FaultADOSlow)
			return &adosim.Fault{Delay: r.Slow}
		}
		return nil
	}
}

// Transport wraps next (nil: http.DefaultTransport) so that, at Rates.ADOLost per request, the
// request is served and its response then lost: the caller gets a transport error although the
// request took effect, as when a connection drops after the server committed. This is the case a
// client must not answer by repeating a non-idempotent call.
func (in *Injector) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &lossyTransport{in: in, next: next, s: in.stream(streamTransport)}
}

type lossyTransport struct {
	in   *Injector
	next http.RoundTripper
	s    *stream
}

func (t *lossyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	lose := t.in.hit(t.s, t.in.rates.ADOLost)
	resp, err := t.next.RoundTrip(req)
	if err != nil || !lose {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	t.in.count(FaultADOLost)
	return nil, fmt.Errorf("%s %s: connection reset after the request was sent: %w", req.Method, req.URL.Path, ErrInjected)
}
