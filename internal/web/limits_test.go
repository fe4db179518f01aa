package web_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/web"
)

// serve runs srv on a loopback port until the test ends and returns its base URL.
func serve(t *testing.T, srv *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// echoLen answers with the size of the body it could read, or 413 when the body was cut.
func echoLen(w http.ResponseWriter, r *http.Request) {
	n, err := io.Copy(io.Discard, r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		http.Error(w, "cut at "+fmt.Sprint(tooBig.Limit), http.StatusRequestEntityTooLarge)
		return
	}
	fmt.Fprint(w, n)
}

func TestNewHTTPServerLimitsBodies(t *testing.T) {
	t.Parallel()
	called := make(chan struct{}, 10)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		called <- struct{}{}
		echoLen(w, r)
	})
	base := serve(t, web.NewHTTPServer("", mux))
	tests := []struct {
		name       string
		size       int64
		chunked    bool // no Content-Length: the limit can only be found while reading
		wantStatus int
		wantBody   string
		wantCalled bool
	}{
		{"at the limit", web.MaxRequestBodyBytes, false, http.StatusOK, fmt.Sprint(web.MaxRequestBodyBytes), true},
		{"declared over the limit", web.MaxRequestBodyBytes + 1, false, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("request body is larger than %d bytes", web.MaxRequestBodyBytes), false},
		{"chunked over the limit", 2 * web.MaxRequestBodyBytes, true, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("cut at %d", web.MaxRequestBodyBytes), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = io.LimitReader(zeros{}, tt.size)
			if tt.chunked {
				body = io.MultiReader(body) // hides the size from http.NewRequest
			}
			req, err := http.NewRequest(http.MethodPost, base+"/echo", body)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.chunked {
				req.ContentLength = tt.size
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("POST: %v", err)
			}
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.wantStatus || strings.TrimSpace(string(got)) != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", res.StatusCode, strings.TrimSpace(string(got)), tt.wantStatus, tt.wantBody)
			}
			wasCalled := len(called) > 0
			for len(called) > 0 {
				<-called
			}
			if wasCalled != tt.wantCalled {
				t.Errorf("handler called: got %v, want %v", wasCalled, tt.wantCalled)
			}
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestLongLivedOutlastsTimeouts: a streaming handler wrapped in LongLived keeps writing, with its
// request context alive, after the server's read and write timeouts have passed; the same handler
// unwrapped is cut off. The timeouts are tiny and the handler waits past them: nothing here
// measures how long anything took.
func TestLongLivedOutlastsTimeouts(t *testing.T) {
	t.Parallel()
	const timeout = 50 * time.Millisecond
	stream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		fmt.Fprintln(w, "first")
		_ = rc.Flush()
		time.Sleep(4 * timeout) // past both timeouts
		if r.Context().Err() != nil {
			fmt.Fprintln(w, "context canceled")
		} else {
			fmt.Fprintln(w, "second")
		}
		_ = rc.Flush()
	})
	for _, tt := range []struct {
		name string
		h    http.Handler
		want []string
	}{
		{"long-lived", web.LongLived(stream), []string{"first", "second"}},
		{"plain", stream, []string{"first"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := web.NewHTTPServer("", tt.h)
			srv.ReadTimeout, srv.WriteTimeout = timeout, timeout
			res, err := http.Get(serve(t, srv) + "/")
			if err != nil {
				t.Fatalf("GET: %v", err)
			}
			defer res.Body.Close()
			var got []string
			sc := bufio.NewScanner(res.Body)
			for sc.Scan() {
				got = append(got, sc.Text())
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("streamed %q, want %q", got, tt.want)
			}
		})
	}
}
