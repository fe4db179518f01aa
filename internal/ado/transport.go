package ado

import (
	"net/http"
	"time"
)

// DefaultMaxIdleConnsPerHost is how many idle connections to ADO a Client's own transport keeps:
// twice the controller's default bound on concurrent cycles (each makes one call at a time),
// leaving room for the checks, service-hook and Environment calls made alongside them.
const DefaultMaxIdleConnsPerHost = 32

// NewTransport returns the transport a Client uses when Options.HTTPClient is nil: net/http's
// defaults (proxy from the environment, HTTP/2 where the server offers it, dial and TLS
// timeouts), except that it keeps up to DefaultMaxIdleConnsPerHost idle connections to a host
// instead of 2. Pools are reconciled concurrently and every call goes to the one ADO host: over
// HTTP/1.1, with 2 kept, each burst of cycles opened a connection (and a TLS handshake) per call
// beyond the second and closed it afterwards.
func NewTransport() *http.Transport {
	var t *http.Transport
	if d, ok := http.DefaultTransport.(*http.Transport); ok {
		t = d.Clone()
	} else { // replaced by the program: start from the same settings
		t = &http.Transport{
			Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true, MaxIdleConns: 100,
			IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	}
	t.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	return t
}
