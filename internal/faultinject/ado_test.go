package faultinject_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/faultinject"
)

// faultTrace applies f to n requests and renders each fault as a comparable string.
func faultTrace(f adosim.FaultFunc, n int) []string {
	req := httptest.NewRequest(http.MethodGet, "/sim/_apis/distributedtask/pools", nil)
	out := make([]string, n)
	for i := range out {
		if ft := f(req); ft != nil {
			out[i] = http.StatusText(ft.Status) + "/" + ft.RetryAfter.String() + "/" + ft.Delay.String()
		}
	}
	return out
}

func TestADOIsDeterministicPerSeed(t *testing.T) {
	t.Parallel()
	r := faultinject.Rates{ADOThrottle: 0.1, ADOServerError: 0.1, ADOTimeout: 0.05, ADOSlow: 0.1}
	a, b := faultTrace(faultinject.ADO(7, r), 500), faultTrace(faultinject.ADO(7, r), 500)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two injectors of seed 7 differ (-first +second):\n%s", diff)
	}
	if c := faultTrace(faultinject.ADO(8, r), 500); cmp.Equal(a, c) {
		t.Errorf("seeds 7 and 8 injected the same 500 faults")
	}
}

func TestADOCountsAndKinds(t *testing.T) {
	t.Parallel()
	r := faultinject.Rates{ADOThrottle: 0.25, ADOServerError: 0.25, ADOTimeout: 0.25, ADOSlow: 0.25}
	in := faultinject.New(3, r)
	tr := faultTrace(in.ADO(), 400)
	kinds := map[string]int64{}
	for _, s := range tr {
		kinds[s]++
	}
	rr := r.WithDefaults()
	wantKinds := map[string]int64{
		"Too Many Requests/" + rr.RetryAfter.String() + "/0s":   in.Counts()[faultinject.FaultADOThrottle],
		"Gateway Timeout/0s/" + rr.Timeout.String():             in.Counts()[faultinject.FaultADOTimeout],
		"/0s/" + rr.Slow.String():                               in.Counts()[faultinject.FaultADOSlow],
		"Internal Server Error/0s/0s":                           0,
		"Service Unavailable/" + rr.RetryAfter.String() + "/0s": 0,
	}
	wantKinds["Internal Server Error/0s/0s"] = kinds["Internal Server Error/0s/0s"]
	wantKinds["Service Unavailable/"+rr.RetryAfter.String()+"/0s"] = in.Counts()[faultinject.FaultADOServerError] - kinds["Internal Server Error/0s/0s"]
	if diff := cmp.Diff(wantKinds, kinds); diff != "" {
		t.Errorf("faults by kind vs counts (-counts +seen):\n%s", diff)
	}
	if got, want := in.Total(), int64(400); got != want {
		t.Errorf("Total() = %d, want %d (the rates sum to 1)", got, want)
	}
	in.SetEnabled(false)
	for i, s := range faultTrace(in.ADO(), 50) {
		if s != "" {
			t.Fatalf("request %d after SetEnabled(false) got fault %q", i, s)
		}
	}
}

func TestADOIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	in := faultinject.New(1, faultinject.Rates{ADOServerError: 0.5})
	f := in.ADO()
	var faults atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			for range 200 {
				if f(req) != nil {
					faults.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got, want := in.Counts()[faultinject.FaultADOServerError], faults.Load(); got != want {
		t.Errorf("counted %d server errors, the callers saw %d", got, want)
	}
}

// TestADOClientRidesOutFaults runs the real ADO client against the simulator with every
// retryable fault on: each call succeeds after its retries, and the faults were injected.
func TestADOClientRidesOutFaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		org := adosim.NewOrg(adosim.OrgOptions{Seed: 1})
		if _, err := org.AddPool("linux"); err != nil {
			t.Fatal(err)
		}
		srv := adosim.NewServer(org, adosim.ServerOptions{PAT: "pat"})
		in := faultinject.New(11, faultinject.Rates{ADOThrottle: 0.1, ADOServerError: 0.1, ADOTimeout: 0.05, ADOSlow: 0.1})
		srv.SetFaults(in.ADO())
		c, err := ado.New(ado.Options{OrgURL: "http://adosim.invalid/sim", PAT: "pat", MaxRetries: 10,
			HTTPClient: &http.Client{Transport: adosim.InProcess{Handler: srv}}, Timeout: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 60 {
			p, err := c.FindPool(t.Context(), "linux")
			if err != nil || p.Name != "linux" {
				t.Fatalf("FindPool #%d = %+v, %v; want pool linux", i, p, err)
			}
		}
		for _, k := range []string{faultinject.FaultADOThrottle, faultinject.FaultADOServerError, faultinject.FaultADOTimeout, faultinject.FaultADOSlow} {
			if in.Counts()[k] == 0 {
				t.Errorf("no %s fault injected in 60 calls: %v", k, in.Counts())
			}
		}
	})
}

func TestTransportLosesResponseAfterEffect(t *testing.T) {
	t.Parallel()
	var served atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		_, _ = io.WriteString(w, "ok")
	})
	in := faultinject.New(1, faultinject.Rates{ADOLost: 1})
	c := &http.Client{Transport: in.Transport(adosim.InProcess{Handler: h})}
	_, err := c.Post("http://x.invalid/agents", "application/json", nil)
	if !errors.Is(err, faultinject.ErrInjected) {
		t.Errorf("Post error = %v, want ErrInjected", err)
	}
	if got, want := served.Load(), int64(1); got != want {
		t.Errorf("handler served %d requests, want %d (the request takes effect)", got, want)
	}
	if got, want := in.Counts()[faultinject.FaultADOLost], int64(1); got != want {
		t.Errorf("lost responses counted = %d, want %d", got, want)
	}
}
