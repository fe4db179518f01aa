package provider_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/fake"
)

func TestRegistry(t *testing.T) {
	t.Parallel()
	r := provider.NewRegistry()
	local, ecs := fake.New(), fake.New()
	if err := r.Register("local", local); err != nil {
		t.Fatalf("Register(local): %v", err)
	}
	if err := r.Register("ecs", ecs); err != nil {
		t.Fatalf("Register(ecs): %v", err)
	}
	if diff := cmp.Diff([]string{"ecs", "local"}, r.Names()); diff != "" {
		t.Errorf("Names (-want +got):\n%s", diff)
	}
	got, err := r.Get("local")
	if err != nil {
		t.Fatalf("Get(local): %v", err)
	}
	if got != provider.Provider(local) {
		t.Errorf("Get(local) returned another provider")
	}

	_, err = r.Get("loacl")
	if !errors.Is(err, provider.ErrUnknownProvider) {
		t.Errorf("Get(loacl) error = %v, want ErrUnknownProvider", err)
	}
	for _, want := range []string{`"loacl"`, "ecs, local"} {
		if err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("Get(loacl) error %q does not contain %q", err, want)
		}
	}
}

func TestRegistryRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    provider.Provider
	}{
		{"local", fake.New()}, // duplicate
		{"", fake.New()},
		{"nil", nil},
	}
	for _, tt := range tests {
		r := provider.NewRegistry()
		if err := r.Register("local", fake.New()); err != nil {
			t.Fatalf("Register(local): %v", err)
		}
		if err := r.Register(tt.name, tt.p); err == nil {
			t.Errorf("Register(%q, %v) = nil error, want an error", tt.name, tt.p)
		}
		if diff := cmp.Diff([]string{"local"}, r.Names()); diff != "" {
			t.Errorf("Names after rejected Register(%q) (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestRegistryGetOnEmpty(t *testing.T) {
	t.Parallel()
	_, err := provider.NewRegistry().Get("local")
	if err == nil || !strings.Contains(err.Error(), "known: none") {
		t.Errorf("Get on an empty registry = %v, want an error saying none are known", err)
	}
}

func TestTagsForAndIsOurs(t *testing.T) {
	t.Parallel()
	if diff := cmp.Diff(map[string]string{
		provider.TagPool: "p", provider.TagController: "c", provider.TagAgent: "a", provider.TagToken: "t",
	}, provider.TagsFor("p", "c", "a", "t")); diff != "" {
		t.Errorf("TagsFor with all (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{provider.TagPool: "p", provider.TagController: "c"},
		provider.TagsFor("p", "c", "", "")); diff != "" {
		t.Errorf("TagsFor without agent and token (-want +got):\n%s", diff)
	}

	tests := []struct {
		name string
		tags map[string]string
		want bool
	}{
		{"ours", provider.TagsFor("p", "c", "a", "t"), true},
		{"other pool", provider.TagsFor("q", "c", "a", "t"), false},
		{"other controller", provider.TagsFor("p", "d", "a", "t"), false},
		{"untagged", nil, false},
		{"no controller tag", map[string]string{provider.TagPool: "p"}, false},
	}
	for _, tt := range tests {
		if got := provider.IsOurs(provider.Instance{Tags: tt.tags}, "p", "c"); got != tt.want {
			t.Errorf("IsOurs(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
