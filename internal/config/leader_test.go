package config_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/config"
)

func TestLeaderElectionDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want *config.LeaderElection
	}{
		{"absent stays nil", "", nil},
		{"enabled only", "controller:\n  leaderElection:\n    enabled: true\n", &config.LeaderElection{
			Enabled: true, Backend: "store", LeaseName: "adofleet-controller",
			LeaseDuration: config.Duration(15 * time.Second), RenewDeadline: config.Duration(10 * time.Second),
			RetryPeriod: config.Duration(2 * time.Second),
		}},
		{"all set", "controller:\n  leaderElection:\n    enabled: true\n    backend: kubernetes\n    leaseName: fleet.prod\n    leaseDuration: 30s\n    renewDeadline: 20s\n    retryPeriod: 5s\n", &config.LeaderElection{
			Enabled: true, Backend: "kubernetes", LeaseName: "fleet.prod",
			LeaseDuration: config.Duration(30 * time.Second), RenewDeadline: config.Duration(20 * time.Second),
			RetryPeriod: config.Duration(5 * time.Second),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Parse("adofleet.yaml", []byte(vmResourcesBase+tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, cfg.Controller.LeaderElection); diff != "" {
				t.Errorf("controller.leaderElection (-want +got):\n%s", diff)
			}
			if got, want := cfg.Controller.LeaderElection.Elects(), tt.want != nil && tt.want.Enabled; got != want {
				t.Errorf("Elects() = %v, want %v", got, want)
			}
		})
	}
}

func TestLeaderElectionErrors(t *testing.T) {
	t.Parallel()
	const at = "controller:\n  leaderElection:\n    enabled: true\n"
	tests := []fieldErrorCase{
		{"bad backend", at + "    backend: etcd\n", "controller.leaderElection.backend", "store, kubernetes"},
		{"bad lease name", at + "    leaseName: Adofleet_Controller\n", "controller.leaderElection.leaseName", "lower-case"},
		{"renew not below lease", at + "    leaseDuration: 10s\n    renewDeadline: 10s\n", "controller.leaderElection.renewDeadline", "shorter than leaseDuration"},
		{"retry not below renew", at + "    renewDeadline: 5s\n    retryPeriod: 6s\n", "controller.leaderElection.retryPeriod", "shorter than renewDeadline"},
		{"negative", at + "    retryPeriod: -1s\n", "controller.leaderElection.retryPeriod", ""},
		{"not a duration", at + "    leaseDuration: fifteen\n", "controller.leaderElection.leaseDuration", ""},
		{"unknown field", at + "    namespace: x\n", "controller.leaderElection.namespace", ""},
	}
	testFieldErrors(t, "adofleet.yaml", tests)
}
