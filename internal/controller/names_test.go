package controller_test

import (
	"regexp"
	"testing"

	"github.com/adofleet/adofleet/internal/controller"
)

func TestSlug(t *testing.T) {
	t.Parallel()
	tests := []struct{ pool, want string }{
		{"linux", "linux"},
		{"Linux Docker", "linux-docker"},
		{"  team/a_b--c  ", "team-a-b-c"},
		{"ÜBER pool!", "ber-pool"},
		{"!!!", "pool"},
		{"a-very-long-pool-name-that-goes-on-and-on-and-on", "a-very-long-pool-name-that-goes-on-and-o"},
	}
	for _, tt := range tests {
		if got := controller.Slug(tt.pool); got != tt.want {
			t.Errorf("Slug(%q) = %q, want %q", tt.pool, got, tt.want)
		}
	}
}

func TestAgentNames(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^linux-docker-[0-9a-f]{8}$`)
	seen := map[string]bool{}
	for range 100 {
		name := controller.DefaultAgentName("Linux Docker")
		if !re.MatchString(name) {
			t.Fatalf("DefaultAgentName = %q, want it to match %s", name, re)
		}
		if seen[name] {
			t.Fatalf("DefaultAgentName repeated %q", name)
		}
		seen[name] = true
	}
	if got, want := controller.PlaceholderName("Linux Docker"), "linux-docker-placeholder"; got != want {
		t.Errorf("PlaceholderName = %q, want %q", got, want)
	}
}
