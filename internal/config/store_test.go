package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/config"
)

// withStore is the minimal config with a store section (YAML indented under "store:") and more
// top-level sections appended.
func withStore(store, more string) string {
	return minimal + "store:\n" + store + more
}

func TestStoreDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want config.Store
		kind string
	}{
		{"none: sqlite", minimal, config.Store{SQLite: &config.SQLiteStore{Path: "./adofleet.db"}}, "sqlite"},
		{"dynamodb alone", withStore("  dynamodb: {table: adofleet-state}\n", ""), config.Store{DynamoDB: &config.DynamoDBStore{
			Table: "adofleet-state", CallTimeout: config.Duration(10 * time.Second), MaxAttempts: 8,
			AgentRetention: config.Duration(168 * time.Hour), DecisionRetention: config.Duration(720 * time.Hour),
		}}, "dynamodb"},
		{"dynamodb, everything set", withStore(`  dynamodb:
    table: t.1_x
    region: eu-west-1
    endpoint: http://127.0.0.1:4567
    createTable: true
    callTimeout: 3s
    maxAttempts: 2
    agentRetention: 1h
    decisionRetention: 24h
`, ""), config.Store{DynamoDB: &config.DynamoDBStore{
			Table: "t.1_x", Region: "eu-west-1", Endpoint: "http://127.0.0.1:4567", CreateTable: true,
			CallTimeout: config.Duration(3 * time.Second), MaxAttempts: 2,
			AgentRetention: config.Duration(time.Hour), DecisionRetention: config.Duration(24 * time.Hour),
		}}, "dynamodb"},
		{"postgres alone", withStore("  postgres: {url: env:PG_URL}\n", ""), config.Store{Postgres: &config.PostgresStore{
			URL: "env:PG_URL", Schema: "adofleet", MaxConns: 4, Timeout: config.Duration(30 * time.Second),
		}}, "postgres"},
		{"housekeeping set", withStore("  housekeeping: {interval: 10m, decisionsPerPool: 50, checkRetention: 720h}\n", ""),
			config.Store{SQLite: &config.SQLiteStore{Path: "./adofleet.db"}, Housekeeping: config.Housekeeping{
				Interval: config.Duration(10 * time.Minute), DecisionsPerPool: 50, CheckRetention: config.Duration(720 * time.Hour),
			}}, "sqlite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := config.Parse("adofleet.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tc.want.Housekeeping == (config.Housekeeping{}) {
				tc.want.Housekeeping = defaultHousekeeping
			}
			if diff := cmp.Diff(tc.want, c.Store); diff != "" {
				t.Errorf("store (-want +got):\n%s", diff)
			}
			if got := c.Store.Kind(); got != tc.kind {
				t.Errorf("Kind() = %q, want %q", got, tc.kind)
			}
		})
	}
}

var defaultHousekeeping = config.Housekeeping{
	Interval: config.Duration(time.Hour), DecisionsPerPool: 10_000, CheckRetention: config.Duration(840 * time.Hour),
}

func TestStoreErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want []string // "line: field: part of the message"
	}{
		{"two stores", withStore("  sqlite: {path: a.db}\n  dynamodb: {table: adofleet-state}\n", ""),
			[]string{"14: store.dynamodb: only one store may be set"}},
		{"three stores", withStore("  sqlite: {path: a.db}\n  dynamodb: {table: adofleet-state}\n  postgres: {url: env:PG}\n", ""),
			[]string{"14: store.dynamodb: only one store may be set"}},
		{"dynamodb without table", withStore("  dynamodb: {region: eu-west-1}\n", ""),
			[]string{"13: store.dynamodb.table: required"}},
		{"bad dynamodb fields", withStore("  dynamodb:\n    table: 'a b'\n    region: Europe\n    endpoint: ftp://x\n    maxAttempts: -1\n", ""),
			[]string{
				`14: store.dynamodb.table: "a b" is not a DynamoDB table name`,
				`15: store.dynamodb.region: "Europe" is not an AWS region name`,
				"16: store.dynamodb.endpoint: must be an absolute http(s) URL",
				"17: store.dynamodb.maxAttempts: must be >= 1",
			}},
		{"postgres without url", withStore("  postgres: {schema: s}\n", ""),
			[]string{"13: store.postgres.url: required"}},
		{"postgres literal url", withStore("  postgres: {url: 'postgres://u:hunter2@db/adofleet'}\n", ""),
			[]string{"13: store.postgres.url: looks like a literal connection URL (not shown)"}},
		{"postgres bad sizes", withStore("  postgres: {url: env:PG, maxConns: -2, schema: "+strings.Repeat("s", 64)+"}\n", ""),
			[]string{"13: store.postgres.maxConns: must be >= 1", "13: store.postgres.schema: must be a PostgreSQL identifier"}},
		{"bad housekeeping", withStore("  housekeeping:\n    interval: -1m\n    decisionsPerPool: -3\n    checkRetention: -2h\n", ""),
			[]string{"14: store.housekeeping.interval: must be a positive duration", "15: store.housekeeping.decisionsPerPool: must be >= 1",
				"16: store.housekeeping.checkRetention: must be a positive duration"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Parse("adofleet.yaml", []byte(tc.yaml))
			var errs *config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse: got %v, want *config.Errors", err)
			}
			if len(errs.List) != len(tc.want) {
				t.Errorf("got %d errors, want %d:\n%v", len(errs.List), len(tc.want), err)
			}
			for i, e := range errs.List {
				if i >= len(tc.want) {
					break
				}
				if got := e.Error(); !strings.Contains(got, tc.want[i]) {
					t.Errorf("error %d: got %q, want it to contain %q", i, got, tc.want[i])
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("an error shows the password: %v", err)
			}
		})
	}
}

// TestChecksWithEveryStore: the checks endpoint keeps its requests in whichever store is set.
func TestChecksWithEveryStore(t *testing.T) {
	t.Parallel()
	const checks = "checks: {enabled: true, sharedSecret: env:S}\n"
	for name, store := range map[string]string{
		"sqlite":   "  sqlite: {path: a.db}\n",
		"dynamodb": "  dynamodb: {table: adofleet-state}\n",
		"postgres": "  postgres: {url: env:PG_URL}\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := config.Parse("adofleet.yaml", []byte(withStore(store, checks)))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := c.Store.Kind(); !c.Checks.Enabled || got != name {
				t.Errorf("checks enabled %v with store %q, want enabled with %q", c.Checks.Enabled, got, name)
			}
		})
	}
}
