package ado

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestUnmarshalBodyMatchesEncodingJSON checks the fast decoder against encoding/json on every
// list in testdata, in the types the client decodes them into.
func TestUnmarshalBodyMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		file string
		new  func() any
	}{
		{"agents.json", func() any { return new(listOf[Agent]) }},
		{"agents.json", func() any { return new(listOf[leanAgent]) }},
		{"agents_list.json", func() any { return new(listOf[leanAgent]) }},
		{"jobrequests_unfinished.json", func() any { return new(listOf[JobRequest]) }},
		{"jobrequests_unfinished.json", func() any { return new(listOf[leanJobRequest]) }},
		{"jobrequests_top.json", func() any { return new(listOf[leanJobRequest]) }},
		{"pools.json", func() any { return new(listOf[Pool]) }},
		{"vmresources.json", func() any { return new(listOf[VMResource]) }},
		{"environments.json", func() any { return new(listOf[Environment]) }},
	} {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, want := tt.new(), tt.new()
			if err := unmarshalBody(data, got); err != nil {
				t.Fatalf("unmarshalBody: %v", err)
			}
			if err := json.Unmarshal(data, want); err != nil {
				t.Fatalf("json.Unmarshal: %v", err)
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(leanJobRequest{})); diff != "" {
				t.Errorf("(-encoding/json +unmarshalBody):\n%s", diff)
			}
		})
	}
}

// TestUnmarshalBodyErrorIsEncodingJSONs: a body the fast path rejects gets encoding/json's error
// and leaves nothing half-decoded behind.
func TestUnmarshalBodyErrorIsEncodingJSONs(t *testing.T) {
	t.Parallel()
	body := []byte(`{"count":2,"value":[{"id":1,"name":"a"},{"id":"x"}]}`)
	var got listOf[Agent]
	err := unmarshalBody(body, &got)
	var want listOf[Agent]
	wantErr := json.Unmarshal(body, &want)
	if err == nil || wantErr == nil || err.Error() != wantErr.Error() {
		t.Fatalf("got error %v, want encoding/json's %v", err, wantErr)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decoded alongside the error (-encoding/json +unmarshalBody):\n%s", diff)
	}
}
