package adosim

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Fault injection: a seam for tests of clients' retry and rate-limit handling. A FaultFunc looks
// at each authenticated request and returns the fault to apply, or nil.

// Fault fails or delays one request.
type Fault struct {
	// Status, if non-zero, is answered instead of the real response (429, 500, 503, ...).
	Status int
	// RetryAfter sets Retry-After (whole seconds) on the failed response.
	RetryAfter time.Duration
	// Delay holds the request this long before it proceeds (or fails).
	Delay time.Duration
	// Header is added to the response, failed or not (e.g. X-RateLimit-* on a delayed success).
	Header http.Header
	// Message is the error message; default a generic one for the status.
	Message string
}

// FaultFunc decides the fault for a request; nil means none.
type FaultFunc func(r *http.Request) *Fault

// RateLimited is ADO's answer once a caller's TSTU budget is spent: 429 with Retry-After and the
// X-RateLimit-* headers.
func RateLimited(retryAfter time.Duration) *Fault {
	secs := int(retryAfter.Round(time.Second) / time.Second)
	h := http.Header{}
	h.Set("X-RateLimit-Resource", "Core")
	h.Set("X-RateLimit-Delay", "0")
	h.Set("X-RateLimit-Limit", "200")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(retryAfter).Unix(), 10))
	return &Fault{
		Status: http.StatusTooManyRequests, RetryAfter: retryAfter, Header: h,
		Message: "TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource 'Core' in namespace 'User'. Retry after " + strconv.Itoa(secs) + " seconds.",
	}
}

// FailFirst returns a FaultFunc that applies f to the first n requests for which match returns
// true (match nil: every request), then lets requests through.
func FailFirst(n int, f Fault, match func(*http.Request) bool) FaultFunc {
	var left atomic.Int64
	left.Store(int64(n))
	return func(r *http.Request) *Fault {
		if match != nil && !match(r) {
			return nil
		}
		if left.Add(-1) < 0 {
			return nil
		}
		return &f
	}
}

// applyFault applies the configured fault; it reports whether the request was answered.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request) bool {
	fp := s.faults.Load()
	if fp == nil {
		return false
	}
	f := (*fp)(r)
	if f == nil {
		return false
	}
	for k, vs := range f.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	if f.Status == 0 {
		return false
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
	}
	msg := f.Message
	if msg == "" {
		msg = http.StatusText(f.Status)
	}
	key := "VssServiceException"
	if f.Status == http.StatusTooManyRequests {
		key = "RequestBlockedException"
	}
	writeError(w, &Error{Status: f.Status, TypeKey: key, Message: msg})
	return true
}
