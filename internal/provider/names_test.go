package provider_test

import (
	"testing"

	"github.com/adofleet/adofleet/internal/provider"
)

func TestDNSLabel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"build-agent-7", 63, "build-agent-7"},
		{"Build Agent__7", 63, "build-agent-7"},
		{"--x..y--", 63, "x-y"},
		{"ÄÖÜ", 63, ""},
		{"abcdef-ghij", 7, "abcdef"},
		{"abc", 0, ""},
	}
	for _, tt := range tests {
		if got := provider.DNSLabel(tt.in, tt.max); got != tt.want {
			t.Errorf("DNSLabel(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}
