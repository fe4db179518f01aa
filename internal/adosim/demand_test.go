package adosim_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/adofleet/adofleet/internal/adosim"
)

// Demand matching, seen through the agents list's demands filter (the same matcher assigns jobs).
func TestDemandMatching(t *testing.T) {
	t.Parallel()
	e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{})
	poolID := e.addPool(t, "p")
	e.register(t, poolID, "agent", map[string]string{"Agent.OS": "Linux", "node": "18.2.0", "docker": "", "weird": "v1"})
	tests := []struct {
		demand string
		want   bool
	}{
		{"docker", true},
		{"DOCKER", true},
		{"docker -exists", true},
		{"gpu", false},
		{"Agent.OS -equals linux", true},
		{"agent.os -equals Windows_NT", false},
		{"node -gtVersion 18.2.0", true},
		{"node -gtVersion 18.1", true},
		{"node -gtVersion 18.10", false},
		{"node -gtVersion 2", true},
		{"weird -gtVersion 1.0", false},
	}
	for _, tc := range tests {
		var got collection[agentJSON]
		mustJSON(t, http.StatusOK, "GET", e.poolURL(poolID)+"/agents?demands="+url.QueryEscape(tc.demand), nil, &got)
		if (got.Count == 1) != tc.want {
			t.Errorf("demand %q: matched %d agents, want match=%v", tc.demand, got.Count, tc.want)
		}
	}
}

func TestQueueJobRejectsBadDemand(t *testing.T) {
	t.Parallel()
	org := adosim.NewOrg(adosim.OrgOptions{})
	if _, err := org.AddPool("p"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"x -like y", "x -equals", "x equals y", ""} {
		if _, err := org.QueueJob("p", adosim.JobSpec{Demands: []string{d}}); !errors.Is(err, adosim.ErrInvalid) {
			t.Errorf("demand %q: err %v, want ErrInvalid", d, err)
		}
	}
	if _, err := org.QueueJob("nope", adosim.JobSpec{}); !errors.Is(err, adosim.ErrNotFound) {
		t.Errorf("unknown pool: err %v, want ErrNotFound", err)
	}
}
