// Package webhookauthtest sends authenticated calls to a webhook endpoint in tests, as ADO
// does: basic credentials or a shared-secret header, or any other edit of the request.
package webhookauthtest

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

// Basic returns a request edit that sets basic credentials.
func Basic(user, pass string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(user, pass) }
}

// Secret returns a request edit that sends a shared secret in header.
func Secret(header, value string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(header, value) }
}

// Post sends body to url with headers, then applies auth (nil: no credentials at all), and
// returns the answer's status and body. A failed call fails the test.
func Post(t testing.TB, url string, headers map[string]string, body []byte, auth func(*http.Request)) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if auth != nil {
		auth(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read the answer (status %d): %v", resp.StatusCode, err)
	}
	return resp.StatusCode, data
}
