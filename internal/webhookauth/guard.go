package webhookauth

import (
	"log/slog"
	"net/http"
)

// GuardOptions configure Guard.
type GuardOptions struct {
	// Endpoint names what is guarded in the metrics and logs ("dashboard", "checks", "hooks").
	Endpoint string
	// Allow admits callers by address; nil admits every address.
	Allow *AllowList
	// Auth, if set, must authorize every request (Verifier.Authorized). Leave it nil for a
	// handler that authenticates itself, as the checks and service-hook handlers do.
	Auth *Verifier
	// Exempt, if set, lets the requests it picks through unguarded (the health probes, which a
	// load balancer calls from addresses that change and with no credentials).
	Exempt func(*http.Request) bool
	// Metrics counts refusals; nil counts nothing.
	Metrics *Metrics
	// Logger receives a debug line per refusal (never a credential); nil discards.
	Logger *slog.Logger
}

// Guard answers 403 to a caller not on o.Allow and 401 (with a challenge) to one o.Auth does not
// authorize, before h sees the request: a refused call reads no body and does nothing. The
// address is checked first, so a caller outside the allow-list learns nothing about the
// credentials.
func Guard(h http.Handler, o GuardOptions) http.Handler {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "webhookauth", "endpoint", o.Endpoint)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.Exempt != nil && o.Exempt(r) {
			h.ServeHTTP(w, r)
			return
		}
		if ok, client := o.Allow.Admits(r); !ok {
			o.Metrics.refuse(o.Endpoint, ReasonAddress)
			log.Debug("refused a caller not on the allow-list", "client", client, "peer", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
			refuse(w, http.StatusForbidden, "forbidden: this address may not call this endpoint")
			return
		}
		if o.Auth != nil && !o.Auth.Authorized(r) {
			o.Metrics.refuse(o.Endpoint, ReasonCredentials)
			log.Debug("refused a caller without valid credentials", "peer", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
			o.Auth.Challenge(w)
			refuse(w, http.StatusUnauthorized, "unauthorized: credentials are missing or wrong")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// refuse writes a short plain-text answer; the connection is closed after it, so an unread body
// is not drained for a caller that was refused.
func refuse(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Connection", "close")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg + "\n"))
}
