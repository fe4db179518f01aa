package storemigrate_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/adofleet/adofleet/internal/store/storemigrate"
)

func file(body string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(body)} }

func TestLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []int
		wantErr bool
	}{
		{"in order", fstest.MapFS{"migrations/0002_b.sql": file("B"), "migrations/0001_a.sql": file("A")}, []int{1, 2}, false},
		{"gap", fstest.MapFS{"migrations/0001_a.sql": file("A"), "migrations/0003_c.sql": file("C")}, nil, true},
		{"duplicate number", fstest.MapFS{"migrations/0001_a.sql": file("A"), "migrations/001_b.sql": file("B")}, nil, true},
		{"no number", fstest.MapFS{"migrations/init.sql": file("A")}, nil, true},
		{"zero", fstest.MapFS{"migrations/0000_a.sql": file("A")}, nil, true},
		{"empty", fstest.MapFS{}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ms, err := storemigrate.Load(tc.files)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Load: got error %v, want error %v", err, tc.wantErr)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("versions (-want +got):\n%s", diff)
			}
		})
	}
}

// Each migration carries its name (the file name after the number) and its file's SQL.
func TestLoadFields(t *testing.T) {
	t.Parallel()
	ms, err := storemigrate.Load(fstest.MapFS{
		"migrations/0002_list_indexes.sql": file("CREATE INDEX b;"),
		"migrations/0001_initial.sql":      file("CREATE TABLE a;"),
		"migrations/README":                file("not a migration"),
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := []storemigrate.Migration{
		{Version: 1, Name: "initial", SQL: "CREATE TABLE a;"},
		{Version: 2, Name: "list_indexes", SQL: "CREATE INDEX b;"},
	}
	if diff := cmp.Diff(want, ms); diff != "" {
		t.Errorf("migrations (-want +got):\n%s", diff)
	}
}

// MustLoad panics on a build defect, naming the backend.
func TestMustLoadPanics(t *testing.T) {
	t.Parallel()
	defer func() {
		r := recover()
		err, ok := r.(error)
		if !ok {
			t.Fatalf("MustLoad of a gap: recovered %v, want an error", r)
		}
		const want = `sqlite: migrations are not numbered 1..2: found 0003_c at position 2`
		if !strings.Contains(err.Error(), want) {
			t.Errorf("panic: got %q, want it to contain %q", err, want)
		}
	}()
	storemigrate.MustLoad(fstest.MapFS{"migrations/0001_a.sql": file("A"), "migrations/0003_c.sql": file("C")}, "sqlite")
}

func TestRequireVersion(t *testing.T) {
	for _, tc := range []struct {
		cur, want int
		says      string // "" : no error
	}{
		{3, 3, ""},
		{0, 3, "version 0, older than this binary's (3)"},
		{2, 3, "version 2, older than this binary's (3)"},
		{4, 3, "version 4, newer than this binary knows (3)"},
	} {
		err := storemigrate.RequireVersion(tc.cur, tc.want)
		if (err == nil) != (tc.says == "") || (err != nil && !strings.Contains(err.Error(), tc.says)) {
			t.Errorf("RequireVersion(%d, %d) = %v, want %q", tc.cur, tc.want, err, tc.says)
		}
	}
}
