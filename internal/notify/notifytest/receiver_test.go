package notifytest_test

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/notify/notifytest"
)

// post sends body to path on r as a notifier would and returns the answer's status, Retry-After
// and body.
func post(t *testing.T, r *notifytest.Receiver, path, contentType, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Test", path)
	resp, err := r.Client().Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
}

type answered struct {
	Status           int
	RetryAfter, Body string
}

func TestReceiverAnswersItsScriptThenTheDefault(t *testing.T) {
	t.Parallel()
	r := notifytest.NewReceiver(t,
		notifytest.Answer{Status: http.StatusTooManyRequests, RetryAfter: "30", Body: "rate_limited"},
		notifytest.Answer{Status: http.StatusServiceUnavailable},
	)
	var got []answered
	for _, path := range []string{"/a", "/b", "/c"} {
		s, ra, b := post(t, r, path, "application/json", `{"path":"`+path+`"}`)
		got = append(got, answered{s, ra, b})
	}
	r.SetDefault(notifytest.Answer{Status: http.StatusBadGateway, Body: "down"})
	s, ra, b := post(t, r, "/d", "application/json", `{}`)
	got = append(got, answered{s, ra, b})
	r.SetDefault(notifytest.Answer{Body: "back"}) // status 0: 200
	s, ra, b = post(t, r, "/e", "application/json", `{}`)
	got = append(got, answered{s, ra, b})

	want := []answered{
		{http.StatusTooManyRequests, "30", "rate_limited"},
		{http.StatusServiceUnavailable, "", ""},
		{http.StatusOK, "", "ok"},
		{http.StatusBadGateway, "", "down"},
		{http.StatusOK, "", "back"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}

	reqs := r.Requests()
	if len(reqs) != len(want) {
		t.Fatalf("recorded %d requests, want %d", len(reqs), len(want))
	}
	first := reqs[0]
	if first.Method != http.MethodPost || first.Path != "/a" || string(first.Body) != `{"path":"/a"}` ||
		first.Header.Get("X-Test") != "/a" || first.Header.Get("Content-Type") != "application/json" {
		t.Errorf("first request recorded as %+v, want the POST to /a with its headers and body", first)
	}
	var statuses []int
	for _, q := range reqs {
		statuses = append(statuses, q.Status)
	}
	if diff := cmp.Diff([]int{429, 503, 200, 502, 200}, statuses); diff != "" {
		t.Errorf("recorded statuses (-want +got):\n%s", diff)
	}

	// Requests is a copy: changing it changes nothing the receiver keeps.
	reqs[0].Path = "/changed"
	if got := r.Requests()[0].Path; got != "/a" {
		t.Errorf("after changing a returned request: recorded path %q, want /a", got)
	}
}

// A request that is not a JSON POST is recorded and answered 400, and uses up its answer.
func TestReceiverRejectsAnythingButAJSONPost(t *testing.T) {
	t.Parallel()
	r := notifytest.NewReceiver(t, notifytest.Answer{Status: http.StatusServiceUnavailable})
	if s, _, _ := post(t, r, "/form", "application/x-www-form-urlencoded", "a=b"); s != http.StatusBadRequest {
		t.Errorf("form POST answered %d, want 400", s)
	}
	resp, err := r.Client().Get(r.URL + "/get")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET answered %d, want 400", resp.StatusCode)
	}
	if s, _, b := post(t, r, "/json", "application/json", "{}"); s != http.StatusOK || b != "ok" {
		t.Errorf("JSON POST after the script answered %d %q, want 200 ok", s, b)
	}
	var got []string
	for _, q := range r.Requests() {
		got = append(got, q.Method+" "+q.Path+" "+http.StatusText(q.Status))
	}
	want := []string{"POST /form Bad Request", "GET /get Bad Request", "POST /json OK"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recorded (-want +got):\n%s", diff)
	}
}

// Concurrent requests each get one scripted answer and are all recorded (run under -race, this
// also checks the receiver's locking).
func TestReceiverConcurrentRequests(t *testing.T) {
	t.Parallel()
	const n = 20
	script := make([]notifytest.Answer, n/2)
	for i := range script {
		script[i] = notifytest.Answer{Status: http.StatusServiceUnavailable}
	}
	r := notifytest.NewReceiver(t, script...)
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[int]int{}
	for range n {
		wg.Go(func() {
			resp, err := r.Client().Post(r.URL+"/c", "application/json", strings.NewReader("{}"))
			if err != nil {
				t.Error(err) // not Fatal: this is not the test's goroutine
				return
			}
			_ = resp.Body.Close()
			mu.Lock()
			counts[resp.StatusCode]++
			mu.Unlock()
			_ = r.Requests()
		})
	}
	wg.Wait()
	if want := map[int]int{http.StatusServiceUnavailable: n / 2, http.StatusOK: n / 2}; !cmp.Equal(want, counts) {
		t.Errorf("answers by status %v, want %v", counts, want)
	}
	if got := len(r.Requests()); got != n {
		t.Errorf("recorded %d requests, want %d", got, n)
	}
}
