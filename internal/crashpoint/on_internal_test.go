//go:build crashpoints

package crashpoint

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    spec
		wantErr bool
	}{
		{in: "", want: spec{}},
		{in: "launch.after-intent", want: spec{name: "launch.after-intent", nth: 1}},
		{in: " drain.after-disable:3 ", want: spec{name: "drain.after-disable", nth: 3}},
		{in: "x:0", wantErr: true},
		{in: "x:-1", wantErr: true},
		{in: "x:two", wantErr: true},
		{in: ":2", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parse(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("parse(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(spec{})); diff != "" && !tt.wantErr {
			t.Errorf("parse(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}
