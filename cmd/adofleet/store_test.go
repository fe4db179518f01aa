package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/secret"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/dynamodb"
	"github.com/adofleet/adofleet/internal/store/dynamodb/dynalitetest"
)

// startDynalite runs a DynamoDB emulator for one test (skipped when it is not installed, failed
// under CI). It runs on the test's goroutine, whose locked thread ends with the test, and the
// emulator with it.
func startDynalite(t *testing.T) *dynalitetest.Server {
	t.Helper()
	s, err := dynalitetest.Start(t.Context())
	s = dynalitetest.Require(t, s, err)
	t.Cleanup(s.Close)
	return s
}

// TestServeWithTheDynamoDBStore runs `adofleet serve` with store.dynamodb against the emulator:
// the table is created (createTable), every job runs once, and the agents and decisions the
// controller wrote are in the table.
func TestServeWithTheDynamoDBStore(t *testing.T) {
	emu := startDynalite(t)
	awsTestEnv(t)
	const pat = "serve-dynamodb-pat-0123456789abcdef"
	t.Setenv("ADOFLEET_TEST_PAT", pat)
	h := newSimHarness(t, "build", adosim.ServerOptions{PAT: pat})
	cfgPath := h.writeConfig(t, `organization:
  url: {sim}
  pat: env:ADOFLEET_TEST_PAT
controller: {id: serve-dynamodb, resync: 300ms}
aws: {region: eu-west-1}
store:
  dynamodb:
    table: adofleet-serve
    endpoint: {dynamo}
    createTable: true
web: {listen: 127.0.0.1:0}
{localAgents}
pools:
  - name: build
    provider: local
    max: 3
    idleTimeout: 2s
    registrationTimeout: 1m
`, "{dynamo}", emu.Endpoint)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := startServe(t, ctx, cfgPath)
	run.dashboardURL(t, ctx)
	const jobs = 4
	run.queueAfterPlaceholder(t, ctx, h.org, "build", jobs, adosim.JobSpec{Duration: 100 * time.Millisecond})
	run.waitFor(t, ctx, "every job finished and the pool back to its placeholder", func() bool {
		return allJobsFinished(h.org) && len(h.org.Agents("build")) == 1
	})
	run.shutdown(t)
	checkJobsSucceededOnce(t, h.org, jobs)

	st, err := dynamodb.Open(ctx, dynamodb.Options{Table: "adofleet-serve", Client: emu.Client()})
	if err != nil {
		t.Fatalf("open the table serve used: %v", err)
	}
	agents, err := st.ListAgents(ctx, "build")
	if err != nil || len(agents) < jobs {
		t.Errorf("agent records in the table: got %d, %v; want at least %d (one per job)", len(agents), err, jobs)
	}
	ds, err := st.ListDecisions(ctx, "build", 0)
	if err != nil || len(ds) == 0 {
		t.Errorf("decisions in the table: got %d, %v; want some", len(ds), err)
	}
}

func TestOpenStore(t *testing.T) {
	emu := startDynalite(t)
	ac := aws.Config{Region: "eu-west-1", Credentials: awscreds.NewStaticCredentialsProvider("a", "b", "")}
	secrets := secret.NewRegistry(nil)
	log := slog.New(slog.DiscardHandler)
	const password = "hunter2-do-not-log"
	t.Setenv("ADOFLEET_TEST_PG_URL", "postgres://adofleet:"+password+"@127.0.0.1:1/adofleet?connect_timeout=2&sslmode=disable")
	tests := []struct {
		name    string
		store   config.Store
		lambda  bool
		wantErr string // "" = opens
	}{
		{"sqlite", config.Store{SQLite: &config.SQLiteStore{Path: t.TempDir() + "/a.db"}}, false, ""},
		{"sqlite outside /tmp in Lambda", config.Store{SQLite: &config.SQLiteStore{Path: "/var/task/a.db"}}, true, "only /tmp is writable"},
		{"dynamodb, created", config.Store{DynamoDB: &config.DynamoDBStore{Table: "open-store", Endpoint: emu.Endpoint, CreateTable: true}}, true, ""},
		{"dynamodb, missing table", config.Store{DynamoDB: &config.DynamoDBStore{Table: "never-made", Endpoint: emu.Endpoint}}, false, "no such table"},
		{"postgres unreachable", config.Store{Postgres: &config.PostgresStore{URL: "env:ADOFLEET_TEST_PG_URL"}}, false, "store.postgres"},
		{"postgres secret unset", config.Store{Postgres: &config.PostgresStore{URL: "env:ADOFLEET_TEST_PG_UNSET"}}, false, "store.postgres.url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.lambda {
				t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "adofleet-reconcile")
			}
			cfg := &config.Config{Store: tc.store}
			st, err := openStore(t.Context(), cfg, &ac, secrets, nil, log)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("openStore: got %v, want an error containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), password) {
					t.Errorf("openStore's error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("openStore: %v", err)
			}
			defer st.Close()
			if err := st.CreateAgent(t.Context(), store.AgentRecord{Name: "a", Pool: "p", State: store.StateLaunching}); err != nil {
				t.Errorf("CreateAgent: %v", err)
			}
		})
	}
}
