package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/config"
)

// TestControllerCredentialRotates: the ADO client built from resolveCredentials, as serve and the
// Lambda handler build it, sends the rotated secret once its reference changes, without a restart.
func TestControllerCredentialRotates(t *testing.T) {
	const env = "ADOFLEET_TEST_ROTATING_CREDENTIAL"
	tests := []struct {
		name     string
		org      config.Organization
		old, new string // the Authorization headers
	}{
		{"pat", config.Organization{PAT: "env:" + env}, "Basic Om9sZC1wYXQ=", "Basic Om5ldy1wYXQ="},
		{"bearerToken", config.Organization{BearerToken: "env:" + env}, "Bearer old-pat", "Bearer new-pat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(env, "old-pat")
			var mu sync.Mutex
			var got []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				got = append(got, r.Header.Get("Authorization"))
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"count":0,"value":[]}`))
			}))
			defer srv.Close()

			org := tt.org
			org.URL = srv.URL + "/fabrikam"
			// A TTL of 1ns: every request re-resolves the reference, standing in for a TTL passing.
			org.SecretTTL = config.Duration(time.Nanosecond)
			log := slog.New(slog.DiscardHandler)
			secrets, err := newSecrets(nil, log)
			if err != nil {
				t.Fatal(err)
			}
			creds, err := resolveCredentials(t.Context(), &config.Config{Organization: org}, secrets, log)
			if err != nil {
				t.Fatal(err)
			}
			client, err := ado.New(ado.Options{OrgURL: org.URL, Credential: creds.org.Get, HTTPClient: srv.Client()})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := client.ListAgents(t.Context(), 1); err != nil {
				t.Fatal(err)
			}
			t.Setenv(env, "new-pat") // the rotation: the reference now resolves to the new value
			if _, err := client.ListAgents(t.Context(), 1); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 2 || got[0] != tt.old || got[1] != tt.new {
				t.Errorf("got Authorization headers %q, want [%q %q]", got, tt.old, tt.new)
			}
		})
	}
}
