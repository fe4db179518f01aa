package web_test

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/web"
)

// fakeSource is a StatusSource whose answer a test can change at any time.
type fakeSource struct {
	mu  sync.Mutex
	st  web.Status
	err error
}

func (f *fakeSource) Status(context.Context) (web.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st, f.err
}

func (f *fakeSource) set(st web.Status, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st, f.err = st, err
}

// newTestServer serves a web.Server over loopback with a registry that holds
// one known counter, so /metrics has something to show.
func newTestServer(t *testing.T, src web.StatusSource, ready func() error) *httptest.Server {
	t.Helper()
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "adofleet", Name: "webtest_probe_total", Help: "A counter for the web tests.",
	})
	reg.MustRegister(c)
	c.Add(3)
	h, err := web.New(web.Options{Source: src, Gatherer: reg, Ready: ready, Title: "fleet under test"})
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// do performs one request and returns the response with its body read.
func do(t *testing.T, method, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatalf("new request %s %s: %v", method, url, err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading body of %s %s: %v", method, url, err)
	}
	return res, string(body)
}

// element is one HTML element of the dashboard that carries data-field.
type element struct {
	Tag   string
	Attrs map[string]string
	Text  string
	// Decision is the data-decision index of the enclosing row, or "".
	Decision string
}

// key names an element as the tests look it up: "pool/field",
// "decision/N/field" or "/field" for page-wide values.
func (e element) key() string {
	if e.Decision != "" {
		return "decision/" + e.Decision + "/" + e.Attrs["data-field"]
	}
	return e.Attrs["data-pool"] + "/" + e.Attrs["data-field"]
}

// dataFields parses the page (the template is well-formed, so the lenient
// XML decoder reads it) and returns every element with data-field, except
// the empty row inside <template> that the script clones.
func dataFields(t *testing.T, page string) map[string]element {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(page))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	type open struct {
		el    *element
		depth int
	}
	var (
		out      = map[string]element{}
		captures []open
		depth    int
		inTmpl   int // depth of <template>, 0 outside
		decision []string
	)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("parsing page: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			depth++
			attrs := map[string]string{}
			for _, a := range tok.Attr {
				attrs[a.Name.Local] = a.Value
			}
			if tok.Name.Local == "template" && inTmpl == 0 {
				inTmpl = depth
			}
			dec := ""
			if len(decision) > 0 {
				dec = decision[len(decision)-1]
			}
			if v, ok := attrs["data-decision"]; ok {
				dec = v
			}
			decision = append(decision, dec)
			if _, ok := attrs["data-field"]; ok && inTmpl == 0 {
				captures = append(captures, open{el: &element{Tag: tok.Name.Local, Attrs: attrs, Decision: dec}, depth: depth})
			}
		case xml.CharData:
			for _, c := range captures {
				c.el.Text += string(tok)
			}
		case xml.EndElement:
			if n := len(captures); n > 0 && captures[n-1].depth == depth {
				el := *captures[n-1].el
				el.Text = strings.TrimSpace(el.Text)
				if _, dup := out[el.key()]; dup {
					t.Fatalf("two elements with data-field key %q", el.key())
				}
				out[el.key()] = el
				captures = captures[:n-1]
			}
			if inTmpl == depth {
				inTmpl = 0
			}
			decision = decision[:len(decision)-1]
			depth--
		}
	}
	return out
}
