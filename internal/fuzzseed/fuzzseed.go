// Package fuzzseed seeds fuzz targets with recorded inputs (testdata, the shipped examples), so
// the fuzzer starts from what real callers send.
package fuzzseed

import (
	"os"
	"path/filepath"
	"testing"
)

// Files calls add with the contents of every file matching each glob in turn (f.Add for a
// target that takes the bytes alone; a target with more arguments adds its own).
func Files(f *testing.F, add func(data []byte), globs ...string) {
	f.Helper()
	for _, glob := range globs {
		files, err := filepath.Glob(glob)
		if err != nil {
			f.Fatalf("seed files %q: %v", glob, err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatalf("seed file: %v", err)
			}
			add(data)
		}
	}
}
