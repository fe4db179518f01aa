package web

import (
	"fmt"
	"net/http"
	"time"
)

// MaxRequestBodyBytes bounds any request body on the listener NewHTTPServer builds. The
// dashboard's routes take no body; the webhooks mounted beside them (checks, service hooks)
// apply their own, smaller limits. This one is the backstop for a handler that forgets.
const MaxRequestBodyBytes = 1 << 20

// limitBodies answers 413 at once to a request that declares a body over max, and cuts any other
// body at max (http.MaxBytesReader: a handler reading past it gets an error and the connection
// is closed after the answer).
func limitBodies(h http.Handler, max int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			w.Header().Set("Connection", "close")
			writeText(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", max))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		h.ServeHTTP(w, r)
	})
}

// LongLived wraps a handler that holds its response open (server-sent events, a long poll) so
// that the server's ReadTimeout and WriteTimeout, which bound every other request, do not cut it
// off: it lifts the connection's read and write deadlines for this request only. The handler
// must itself end when r.Context() is done (client gone, server shutting down) and should
// bound each write, with http.ResponseController.SetWriteDeadline before it. A request that
// cannot lift its deadlines (an HTTP/2 stream or a wrapped writer without Unwrap) keeps them.
func LongLived(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		// The read deadline too, for a handler that reads its request body as it streams.
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Time{})
		h.ServeHTTP(w, r)
	})
}
