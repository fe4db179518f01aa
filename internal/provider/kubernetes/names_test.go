package kubernetes_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes/fake"

	k8sprov "github.com/adofleet/adofleet/internal/provider/kubernetes"
)

func TestLabelValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		verbatim bool
	}{
		{"linux", true},
		{"Linux.builds_1", true},
		{"Linux builds", false},
		{"Linux-builds ", false},
		{"ünïcode pool", false},
		{"-leading", false},
		{strings.Repeat("x", 64), false},
		{"   ", false},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		got := k8sprov.LabelValue(tt.in)
		if errs := validation.IsValidLabelValue(got); len(errs) > 0 {
			t.Errorf("LabelValue(%q) = %q, not a label value: %v", tt.in, got, errs)
		}
		if (got == tt.in) != tt.verbatim {
			t.Errorf("LabelValue(%q) = %q, verbatim %v, want %v", tt.in, got, got == tt.in, tt.verbatim)
		}
		if prev, dup := seen[got]; dup {
			t.Errorf("LabelValue(%q) = LabelValue(%q) = %q", tt.in, prev, got)
		}
		seen[got] = tt.in
	}
}

func TestPodNameIsADeterministicDNSLabel(t *testing.T) {
	t.Parallel()
	p, err := k8sprov.New(options(fake.NewClientset(), newClock()))
	if err != nil {
		t.Fatal(err)
	}
	for _, agent := range []string{"agent-1", "Linux Builds #12", "123", strings.Repeat("Long", 30), "---", "日本"} {
		name := p.PodName("pool", agent)
		if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
			t.Errorf("PodName(%q) = %q: %v", agent, name, errs)
		}
		if again := p.PodName("pool", agent); again != name {
			t.Errorf("PodName(%q) = %q then %q", agent, name, again)
		}
		if other := p.PodName("pool2", agent); other == name {
			t.Errorf("PodName(%q) is the same in two pools: %q", agent, name)
		}
	}
}

func TestNewRefusesIncompleteOptions(t *testing.T) {
	t.Parallel()
	good := options(fake.NewClientset(), newClock())
	tests := map[string]func(o *k8sprov.Options){
		"no client":       func(o *k8sprov.Options) { o.Client = nil },
		"no namespace":    func(o *k8sprov.Options) { o.Namespace = "" },
		"no controller":   func(o *k8sprov.Options) { o.Controller = "" },
		"no image":        func(o *k8sprov.Options) { o.Template.Image = "" },
		"no token secret": func(o *k8sprov.Options) { o.TokenSecret.Name = "" },
		"plain token":     func(o *k8sprov.Options) { o.Template.Env = map[string]string{"AZP_TOKEN": "x"} },
	}
	for name, mutate := range tests {
		o := good
		o.Template.Env = nil
		mutate(&o)
		if _, err := k8sprov.New(o); err == nil {
			t.Errorf("%s: New succeeded, want an error", name)
		}
	}
}
