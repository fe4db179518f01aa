package ado

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestReadBodyRecycled: bodies of every length, announced or not, read whole and exact through
// recycled buffers, whatever the previous body left in the buffer.
func TestReadBodyRecycled(t *testing.T) {
	// Not parallel: it uses the package's buffer pool.
	body := func(n int) string { return strings.Repeat("abcdefghij", n/10+1)[:n] }
	for _, tt := range []struct {
		name      string
		n         int
		announced bool
	}{
		{"large, announced", 100_000, true},
		{"small after large, announced", 10, true},
		{"large, unannounced", 300_000, false},
		{"small after large, unannounced", 3, false},
		{"empty", 0, false},
		{"a size around the first buffer", firstBodyBuffer, false},
		{"above the pooled limit", maxPooledBody + 1, true},
	} {
		want := body(tt.n)
		resp := &http.Response{Body: io.NopCloser(strings.NewReader(want)), ContentLength: -1}
		if tt.announced {
			resp.ContentLength = int64(tt.n)
		}
		got, err := readBody(resp)
		if err != nil || !bytes.Equal(got, []byte(want)) {
			t.Fatalf("%s: got %d bytes, %v; want the %d bytes sent", tt.name, len(got), err, tt.n)
		}
		recycleBody(got)
	}
}

// TestReadBodyCap: a body above maxBody is cut at maxBody+1 bytes, so the caller sees it is too
// large without reading all of it.
func TestReadBodyCap(t *testing.T) {
	resp := &http.Response{Body: io.NopCloser(io.LimitReader(zeros{}, maxBody+100)), ContentLength: -1}
	got, err := readBody(resp)
	if err != nil || len(got) != maxBody+1 {
		t.Fatalf("got %d bytes, %v; want %d", len(got), err, maxBody+1)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
