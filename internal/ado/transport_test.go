package ado_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/adofleet/adofleet/internal/ado"
)

// TestClientKeepsConnectionsAcrossBursts runs bursts of concurrent calls, as concurrent pool
// cycles make them, and counts the connections the server accepts. A server-side barrier holds
// each burst's calls until all have arrived, so each burst needs burst connections at once.
func TestClientKeepsConnectionsAcrossBursts(t *testing.T) {
	const burst, bursts = 16, 4
	run := func(t *testing.T, hc *http.Client) int64 {
		var opened atomic.Int64
		var mu sync.Mutex
		arrived, release := 0, make(chan struct{})
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			arrived++
			wait := release
			if arrived%burst == 0 {
				close(release)
				release = make(chan struct{})
			}
			mu.Unlock()
			select {
			case <-wait:
			case <-r.Context().Done():
				return
			}
			writeJSON(w, http.StatusOK, []byte(`{"count":0,"value":[]}`))
		}))
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				opened.Add(1)
			}
		}
		srv.Start()
		t.Cleanup(srv.Close)
		c, err := ado.New(ado.Options{OrgURL: srv.URL + "/fabrikam", PAT: testPAT, HTTPClient: hc})
		if err != nil {
			t.Fatalf("ado.New: %v", err)
		}
		for range bursts {
			var wg sync.WaitGroup
			for range burst {
				wg.Go(func() {
					if _, err := c.ListAgents(t.Context(), 7); err != nil {
						t.Errorf("ListAgents: %v", err)
					}
				})
			}
			wg.Wait()
		}
		return opened.Load()
	}

	t.Run("own transport", func(t *testing.T) {
		// Every burst after the first finds the first burst's connections idle. A connection is
		// put back shortly after its body is read, so a call may still dial a few anew.
		if got := run(t, nil); got >= 2*burst {
			t.Errorf("%d bursts of %d calls opened %d connections, want fewer than %d", bursts, burst, got, 2*burst)
		}
	})
	t.Run("net/http default, for contrast", func(t *testing.T) {
		// It keeps 2 idle connections per host, so every later burst dials at least burst-2.
		if got, least := run(t, &http.Client{}), int64(burst+(bursts-1)*(burst-2)); got < least {
			t.Errorf("opened %d connections, want at least %d: the test no longer tells the transports apart", got, least)
		}
	})
}
