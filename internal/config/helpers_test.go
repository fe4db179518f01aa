package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/config"
)

// validateCase is one row of a provider section's Validate table: a change to a valid section
// and the field paths that must then have an error, in order (nil: valid).
type validateCase[P any] struct {
	name string
	mod  func(*P)
	want []string
}

// testValidate runs every case on a fresh valid() section, validated at path, and compares the
// field paths of the messages ("path: what") with the case's. check, when not nil, also sees
// every message.
func testValidate[P any](t *testing.T, valid func() P, validate func(*P, string) []string, path string, tests []validateCase[P], check func(t *testing.T, msg string)) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := valid()
			tt.mod(&p)
			var got []string
			for _, msg := range validate(&p, path) {
				field, _, _ := strings.Cut(msg, ": ")
				got = append(got, field)
				if check != nil {
					check(t, msg)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("fields with errors (-want +got):\n%s", diff)
			}
		})
	}
}

// fieldErrorCase is one row of a section's Parse error table: YAML added to vmResourcesBase and
// the field that must then have an error whose message contains wantMsg.
type fieldErrorCase struct {
	name      string
	yaml      string
	wantField string
	wantMsg   string
}

// testFieldErrors parses vmResourcesBase plus each case's YAML as file and fails unless one of
// the errors is on the case's field, with a line, and says its message.
func testFieldErrors(t *testing.T, file string, tests []fieldErrorCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Parse(file, []byte(vmResourcesBase+tt.yaml))
			var errs *config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse error = %v, want *config.Errors", err)
			}
			for _, e := range errs.List {
				if e.Field == tt.wantField && strings.Contains(e.Message, tt.wantMsg) {
					if e.Line == 0 {
						t.Errorf("error %v has no line", e)
					}
					return
				}
			}
			t.Errorf("errors %v, want one on %s containing %q", err, tt.wantField, tt.wantMsg)
		})
	}
}
