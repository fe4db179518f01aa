// Package queryfake is the scaffolding the AWS Query-protocol fakes (ec2fake, asgfake) share:
// form parsing, recording calls and the parameter patterns read, action dispatch under the
// fake's lock, and XML answers. Each fake brings its dialect (error document, content type,
// error codes) and its operations.
package queryfake

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"sync"
)

// Call is one request a fake received.
type Call struct {
	Action string
	Params url.Values
}

// Error is an API error an operation answers with. Status 0 means 400.
type Error struct {
	Code, Message string
	Status        int
}

func (e *Error) status() int {
	if e.Status != 0 {
		return e.Status
	}
	return http.StatusBadRequest
}

// Dispatch answers one action with its response document or an error. It runs holding the
// fake's lock.
type Dispatch func(action string, q *Params) (any, *Error)

// Dialect is what differs between the services that speak the Query protocol.
type Dialect struct {
	ContentType   string
	MalformedCode string                     // error code for a body that is not a form
	InternalCode  string                     // error code when the answer cannot be marshalled
	ErrorDoc      func(code, msg string) any // the service's error document
}

// Handler parses each request's form, records the call in rec and answers with what dispatch
// returns, holding mu throughout.
func (d Dialect) Handler(mu sync.Locker, rec *Recorder, dispatch Dispatch) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			d.WriteError(w, http.StatusBadRequest, d.MalformedCode, err.Error())
			return
		}
		action := r.PostForm.Get("Action")
		mu.Lock()
		defer mu.Unlock()
		rec.calls = append(rec.calls, Call{Action: action, Params: r.PostForm})
		doc, err := dispatch(action, &Params{v: r.PostForm, action: action, rec: rec})
		if err != nil {
			d.WriteError(w, err.status(), err.Code, err.Message)
			return
		}
		b, merr := xml.Marshal(doc)
		if merr != nil {
			d.WriteError(w, http.StatusInternalServerError, d.InternalCode, merr.Error())
			return
		}
		w.Header().Set("Content-Type", d.ContentType)
		_, _ = w.Write(append([]byte(xml.Header), b...))
	})
}

// WriteError answers with the dialect's error document.
func (d Dialect) WriteError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", d.ContentType)
	w.WriteHeader(status)
	b, _ := xml.Marshal(d.ErrorDoc(code, msg))
	_, _ = w.Write(append([]byte(xml.Header), b...))
}

// Recorder keeps the calls a fake received and, by action, the parameter patterns its
// operations read. Its zero value is ready; the fake's lock guards it.
type Recorder struct {
	calls []Call
	reads map[string]map[string]bool
}

// Calls returns the calls received for action ("" for all), oldest first.
func (rec *Recorder) Calls(action string) []Call {
	var out []Call
	for _, c := range rec.calls {
		if action == "" || c.Action == action {
			out = append(out, c)
		}
	}
	return out
}

// ParamsRead returns, by action, the parameter patterns ("Filter.N.Value.N") read, for
// checking against the AWS model.
func (rec *Recorder) ParamsRead() map[string][]string {
	out := map[string][]string{}
	for a, ps := range rec.reads {
		for p := range ps {
			out[a] = append(out[a], p)
		}
	}
	return out
}

// Params reads one request's form values and records which parameter patterns were read.
type Params struct {
	v      url.Values
	action string
	rec    *Recorder
}

var index = regexp.MustCompile(`(^|\.)\d+(\.|$)`)

// Get returns the value of key, recording its pattern (list indexes as N).
func (p *Params) Get(key string) string {
	pat := key
	for index.MatchString(pat) {
		pat = index.ReplaceAllString(pat, "${1}N${2}")
	}
	if p.rec.reads == nil {
		p.rec.reads = map[string]map[string]bool{}
	}
	if p.rec.reads[p.action] == nil {
		p.rec.reads[p.action] = map[string]bool{}
	}
	p.rec.reads[p.action][pat] = true
	return p.v.Get(key)
}

// List returns the keys prefix.i, for i from 1, while prefix.i.probe (or prefix.i when probe is
// "") is set.
func (p *Params) List(prefix, probe string) []string {
	var out []string
	for i := 1; ; i++ {
		key := prefix + "." + strconv.Itoa(i)
		if probe != "" {
			key += "." + probe
		}
		if p.Get(key) == "" {
			return out
		}
		out = append(out, prefix+"."+strconv.Itoa(i))
	}
}

// Strings returns the values of the list prefix.1, prefix.2, ...
func (p *Params) Strings(prefix string) []string {
	var out []string
	for _, k := range p.List(prefix, "") {
		out = append(out, p.v.Get(k))
	}
	return out
}
