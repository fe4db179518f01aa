package scaler_test

import (
	"testing"

	"github.com/adofleet/adofleet/internal/scaler"
)

func TestSatisfies(t *testing.T) {
	t.Parallel()
	caps := map[string]string{
		"Agent.OS":      "Linux",
		"Agent.Version": "3.248.0",
		"docker":        "",
		"java":          "17.0.2-beta",
		"label":         "gpu large",
		"odd":           "not-a-version",
	}
	tests := []struct {
		name    string
		demands []string
		want    bool
	}{
		{"no demands", nil, true},
		{"exists", []string{"docker"}, true},
		{"exists, name case-insensitive", []string{"DOCKER"}, true},
		{"exists, missing", []string{"kubectl"}, false},
		{"equals", []string{"Agent.OS -equals Linux"}, true},
		{"equals, value case-insensitive", []string{"agent.os -equals linux"}, true},
		{"equals, other value", []string{"Agent.OS -equals Windows_NT"}, false},
		{"equals, value with spaces", []string{"label -equals GPU Large"}, true},
		{"equals, missing capability", []string{"gpu -equals true"}, false},
		{"gtVersion, greater", []string{"Agent.Version -gtVersion 2.163.1"}, true},
		{"gtVersion, equal is enough", []string{"Agent.Version -gtVersion 3.248.0"}, true},
		{"gtVersion, lower", []string{"Agent.Version -gtVersion 3.248.1"}, false},
		{"gtVersion, numeric not lexical", []string{"Agent.Version -gtVersion 3.30"}, true},
		{"gtVersion, pre-release label ignored", []string{"java -gtVersion 17.0.2"}, true},
		{"gtVersion, missing build sorts before 0", []string{"Agent.Version -gtVersion 3.248"}, true},
		{"gtVersion, capability unparseable", []string{"odd -gtVersion 1.0"}, false},
		{"gtVersion, missing capability", []string{"node -gtVersion 1.0"}, false},
		{"unknown operator", []string{"Agent.OS -notEquals Windows_NT"}, false},
		{"operator is case-sensitive", []string{"Agent.OS -EQUALS Linux"}, false},
		{"operator without value", []string{"Agent.OS -equals"}, false},
		{"not an operator", []string{"Agent.OS Linux"}, false},
		{"empty demand", []string{""}, false},
		{"surrounding spaces ignored", []string{"  docker  "}, true},
		{"all must hold", []string{"docker", "Agent.OS -equals Linux", "kubectl"}, false},
		{"all hold", []string{"docker", "Agent.OS -equals Linux", "Agent.Version -gtVersion 2.0"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := scaler.Satisfies(caps, tt.demands); got != tt.want {
				t.Errorf("Satisfies(%q) = %v, want %v", tt.demands, got, tt.want)
			}
		})
	}
}

func TestSatisfiesNoCapabilities(t *testing.T) {
	t.Parallel()
	if !scaler.Satisfies(nil, nil) {
		t.Errorf("Satisfies(nil, nil) = false, want true")
	}
	if scaler.Satisfies(nil, []string{"docker"}) {
		t.Errorf("Satisfies(nil, [docker]) = true, want false")
	}
}
