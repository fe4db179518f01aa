package ado

import (
	"encoding/json"
	"reflect"

	gojson "github.com/goccy/go-json"
)

// unmarshalBody decodes a success body into out (a pointer). A reconcile is mostly decoding the
// pool's agent and job-request lists (about 30 MB a cycle for 100 pools of 100 busy agents, see
// docs/BENCHMARKS.md), so the fast path is github.com/goccy/go-json: the same struct tags and
// Unmarshaler methods as encoding/json, about five times the speed on these lists. encoding/json
// stays the authority: a body the fast path rejects is decoded again, from scratch, by
// encoding/json, whose answer (and error text) is the one returned.
func unmarshalBody(data []byte, out any) error {
	if err := gojson.Unmarshal(data, out); err == nil {
		return nil
	}
	if v := reflect.ValueOf(out); v.Kind() == reflect.Pointer && !v.IsNil() {
		v.Elem().SetZero() // nothing the fast path half-decoded survives
	}
	return json.Unmarshal(data, out)
}
