package ado

import (
	"io"
	"net/http"
	"sync"
)

// Response bodies are read into recycled buffers. Every cycle reads each pool's agent and job
// lists (about 30 MB for 100 pools of 100 busy agents, see docs/BENCHMARKS.md); a fresh buffer per
// answer, grown by doubling when ADO sends no Content-Length, made about twice that in garbage
// every cycle, and the GC work that goes with it.

const (
	// firstBodyBuffer is the first size tried for a body of unknown length.
	firstBodyBuffer = 16 << 10
	// maxPooledBody: larger buffers are left to the GC rather than kept for the next answer.
	maxPooledBody = 8 << 20
)

var bodyBuffers sync.Pool // of *[]byte, each of length 0

// readBody reads at most maxBody+1 bytes of resp's body into a recycled buffer (one of the
// announced size when that is larger). Pass the bytes to recycleBody once nothing refers to them.
func readBody(resp *http.Response) ([]byte, error) {
	r := io.LimitReader(resp.Body, maxBody+1)
	var buf []byte
	if p, ok := bodyBuffers.Get().(*[]byte); ok {
		buf = *p
	}
	switch n := resp.ContentLength; {
	case n > 0 && n <= maxBody && int64(cap(buf)) < n+1:
		buf = make([]byte, 0, n+1) // +1: EOF is seen without growing
	case cap(buf) == 0:
		buf = make([]byte, 0, firstBodyBuffer)
	}
	for {
		if len(buf) == cap(buf) { // longer than announced, or no length: grow as append does
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// recycleBody returns a body's buffer for reuse. The caller must hold no reference into it: both
// decoders copy what they keep (strings, and go-json decodes from its own copy of the input).
func recycleBody(b []byte) {
	if cap(b) == 0 || cap(b) > maxPooledBody {
		return
	}
	b = b[:0]
	bodyBuffers.Put(&b)
}
