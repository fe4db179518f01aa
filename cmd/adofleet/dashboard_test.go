package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/web"
)

// TestDemoDashboard checks the dashboard's wiring in the demo: the status carries the demo's
// price, the history has the demo pool sampled at once, its chart draws, and the live stream
// sends a status event.
func TestDemoDashboard(t *testing.T) {
	if testing.Short() {
		t.Skip("starts agent processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := startCLI(ctx, "demo", "--listen", "127.0.0.1:0", "--rate", "5", "--max", "3",
		"--resync", "500ms", "--boot-time", "100ms", "--log-level", "info", "--state-dir", t.TempDir())
	base := run.dashboardURL(t, ctx)

	var st web.Status
	if err := json.Unmarshal([]byte(get(t, base+"/api/status")), &st); err != nil {
		t.Fatalf("decoding /api/status: %v", err)
	}
	if len(st.Pools) != 1 || st.Pools[0].Cost.PerAgentHour != demoCostPerHour || st.Currency != "USD" {
		t.Errorf("status: got pools %+v currency %q, want the demo pool priced at %v USD", st.Pools, st.Currency, demoCostPerHour)
	}
	var h web.History
	if err := json.Unmarshal([]byte(get(t, base+"/api/history?window=6h")), &h); err != nil {
		t.Fatalf("decoding /api/history: %v", err)
	}
	if len(h.Pools) != 1 || h.Pools[0].Pool != demoPool || len(h.Pools[0].Points) == 0 {
		t.Errorf("history: got %+v, want the demo pool with its first sample", h.Pools)
	}
	if svg := get(t, base+"/chart/"+demoPool); !strings.Contains(svg, `data-series="busy"`) {
		t.Errorf("chart: got %.300s, want an SVG with the busy series", svg)
	}

	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /api/events: %v", err)
	}
	defer res.Body.Close()
	r := bufio.NewReader(res.Body)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the event stream: %v", err)
		}
		if line == "event: status\n" {
			break
		}
	}
	cancel()
	<-run.done
}
