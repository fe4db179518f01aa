package checks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/checks"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

// webhookRate is the arrival rate of BenchmarkCheckWebhook (issue 7: 500 requests/s).
const webhookRate = 500

// BenchmarkCheckWebhook is the check endpoint under an open-loop load of webhookRate calls a
// second over loopback: the real handler (auth, parse, durable write, wake) on a SQLite state
// store in a temporary file. Each op is one call, sent at its scheduled time whether or not the
// earlier ones have answered, each for a distinct check (a new durable request, the costly case).
// The latency of every call is kept and its p50, p99 and max reported; sec/op is only the
// arrival interval. Run it with a fixed count, e.g. -benchtime 5000x (10 s of load).
func BenchmarkCheckWebhook(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "adofleet.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	var wakes atomic.Int64
	h, err := checks.NewHandler(checks.Options{
		Auth:     checks.Auth{Username: testUser, Password: testPass},
		Pool:     checks.PoolSet(testPool),
		Requests: checks.NewStoreRequests(st),
		Wake:     func(string) { wakes.Add(1) },
	})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	url := srv.URL + "/v1/checks/" + testPool
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 30 * time.Second}

	// The bodies are built before the clock starts: a plan each, as ADO's default headers carry
	// them when templated into the body.
	org := adosim.NewOrg(adosim.OrgOptions{Seed: 7})
	bodies := make([][]byte, 0, b.N)
	for range b.N {
		p := org.AddPlan(adosim.PlanSpec{HubName: "build"})
		body, err := json.Marshal(map[string]string{
			"planUrl": "https://dev.azure.com/fabrikam/", "projectId": p.ProjectID, "hubName": p.HubName,
			"planId": p.PlanID, "jobId": p.JobID, "taskInstanceId": p.TaskInstanceID, "authToken": p.Token,
		})
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, body)
	}

	lat := make([]time.Duration, b.N)
	var failed atomic.Int64
	var firstErr sync.Once
	var wg sync.WaitGroup
	interval := time.Second / webhookRate
	b.ResetTimer()
	start := time.Now()
	for i := range b.N { // b.N, not b.Loop: the bodies are built for a known count
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() {
			sent := time.Now()
			err := postCheck(client, url, bodies[i])
			lat[i] = time.Since(sent)
			if err != nil {
				failed.Add(1)
				firstErr.Do(func() { b.Errorf("call %d: %v", i, err) })
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if got := wakes.Load(); got != int64(b.N)-failed.Load() {
		b.Errorf("got %d wakes, want one per accepted call (%d)", got, int64(b.N)-failed.Load())
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Nanoseconds()) }
	b.ReportMetric(q(0.50), "p50-ns")
	b.ReportMetric(q(0.99), "p99-ns")
	b.ReportMetric(float64(lat[len(lat)-1].Nanoseconds()), "max-ns")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
}

// postCheck makes one check call and wants 200 accepted.
func postCheck(client *http.Client, url string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(testUser, testPass)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", resp.StatusCode, data)
	}
	return nil
}
