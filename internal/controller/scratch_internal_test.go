package controller

import (
	"testing"

	"github.com/adofleet/adofleet/internal/provider"
)

func TestReleaseKeepsOrDropsMemory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		used, cap   int
		placeholder string // "" : the cycle failed before its observation was complete
		wantKept    bool
	}{
		{"small pool", 100, 128, "p", true},
		{"large pool, same size", 5000, 5120, "p", true},
		{"large memory, small cycle", 100, 5120, "p", false},
		{"large memory, failed cycle", 0, 5120, "", true},
		{"below keepEntries", 10, keepEntries, "p", true},
	}
	for _, tt := range tests {
		o := observation{
			placeholder: tt.placeholder,
			insts:       make([]provider.Instance, tt.used, tt.cap),
			agents:      map[string]int{"a": 0},
		}
		o.release()
		if got := cap(o.insts) > 0; got != tt.wantKept {
			t.Errorf("%s: memory kept = %v, want %v", tt.name, got, tt.wantKept)
		}
		if len(o.insts) != 0 || len(o.agents) != 0 || o.placeholder != "" {
			t.Errorf("%s: after release %d instances, %d agents, placeholder %q; want none", tt.name,
				len(o.insts), len(o.agents), o.placeholder)
		}
	}
}
