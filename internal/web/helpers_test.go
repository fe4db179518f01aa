package web_test

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/web"
)

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
	// A short refresh keeps the browser test quick; the stream test checks the default.
	opts := web.Options{Source: src, Gatherer: reg, Ready: ready, Title: "fleet under test", Refresh: 300 * time.Millisecond}
	if h, ok := src.(web.HistorySource); ok {
		opts.History = h
	}
	h, err := web.New(opts)
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
	// Row is the data-row key of the enclosing list row ("agent/3"), or "".
	Row string
}

// key names an element as the tests look it up: "pool/field",
// "agent/N/field" (any list row) or "/field" for page-wide values.
func (e element) key() string {
	if e.Row != "" {
		return e.Row + "/" + e.Attrs["data-field"]
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
		rows     []string
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
			row := ""
			if len(rows) > 0 {
				row = rows[len(rows)-1]
			}
			if v, ok := attrs["data-row"]; ok {
				row = v
			}
			rows = append(rows, row)
			if _, ok := attrs["data-field"]; ok && inTmpl == 0 {
				captures = append(captures, open{el: &element{Tag: tok.Name.Local, Attrs: attrs, Row: row}, depth: depth})
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
			rows = rows[:len(rows)-1]
			depth--
		}
	}
	return out
}
