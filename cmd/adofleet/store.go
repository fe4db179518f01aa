package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/housekeep"
	"github.com/adofleet/adofleet/internal/secret"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/dynamodb"
	"github.com/adofleet/adofleet/internal/store/postgres"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

// storeOpenTimeout bounds opening a store: connecting, migrating, checking (or creating) a table.
const storeOpenTimeout = 2 * time.Minute

// inLambda reports whether this process runs as a Lambda function, where only /tmp is writable.
func inLambda() bool { return os.Getenv("AWS_LAMBDA_FUNCTION_NAME") != "" }

// openStore opens the store cfg configures: sqlite (the default), dynamodb or postgres. ac is
// the AWS config (nil when nothing uses AWS; loadAWS loads it for a dynamodb store); secrets
// resolves postgres's URL. The caller closes the store.
func openStore(ctx context.Context, cfg *config.Config, ac *aws.Config, secrets *secret.Registry, reg prometheus.Registerer, log *slog.Logger) (store.Store, error) {
	return openStoreMode(ctx, cfg, ac, secrets, reg, log, false)
}

// openStoreReadOnly opens the configured store for reading only (adofleet status): SQLite and
// Postgres neither create nor migrate anything and refuse a schema of another version, and a
// DynamoDB table is not created.
func openStoreReadOnly(ctx context.Context, cfg *config.Config, ac *aws.Config, secrets *secret.Registry, reg prometheus.Registerer, log *slog.Logger) (store.Store, error) {
	return openStoreMode(ctx, cfg, ac, secrets, reg, log, true)
}

func openStoreMode(ctx context.Context, cfg *config.Config, ac *aws.Config, secrets *secret.Registry, reg prometheus.Registerer, log *slog.Logger, readOnly bool) (store.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, storeOpenTimeout)
	defer cancel()
	slog := log.With("component", "store")
	s := cfg.Store
	switch {
	case s.DynamoDB != nil:
		return openDynamoDB(ctx, s.DynamoDB, ac, reg, slog, readOnly)
	case s.Postgres != nil:
		return openPostgres(ctx, s.Postgres, secrets, reg, slog, readOnly)
	case s.SQLite != nil:
		path := s.SQLite.Path
		if inLambda() && !strings.HasPrefix(path, "/tmp/") {
			return nil, fmt.Errorf("store.sqlite.path %q: on Lambda only /tmp is writable; use e.g. /tmp/adofleet.db, or store.dynamodb", path)
		}
		if inLambda() {
			// Each execution environment has its own /tmp: state is not shared between them.
			slog.Warn("the sqlite store in Lambda is private to one execution environment; use store.dynamodb to share state", "path", path)
		}
		st, err := sqlite.Open(ctx, path, sqlite.Options{Logger: slog, Registerer: reg, ReadOnly: readOnly})
		if err != nil {
			return nil, fmt.Errorf("store.sqlite %s: %w", path, err)
		}
		return st, nil
	}
	return nil, errors.New("store: none configured (config.SetDefaults chooses sqlite)")
}

func openDynamoDB(ctx context.Context, d *config.DynamoDBStore, ac *aws.Config, reg prometheus.Registerer, log *slog.Logger, readOnly bool) (store.Store, error) {
	if ac == nil {
		return nil, errors.New("store.dynamodb: no AWS config loaded")
	}
	client := dynamodb.NewClient(regional(ac, d.Region), dynamodb.ClientOptions{BaseEndpoint: d.Endpoint, MaxAttempts: d.MaxAttempts})
	if d.CreateTable && !readOnly {
		if err := dynamodb.EnsureTable(ctx, client, d.Table, log); err != nil {
			return nil, fmt.Errorf("store.dynamodb: %w", err)
		}
	}
	st, err := dynamodb.Open(ctx, dynamodb.Options{
		Table: d.Table, Client: client, CallTimeout: d.CallTimeout.D(),
		AgentRetention: d.AgentRetention.D(), DecisionRetention: d.DecisionRetention.D(),
		Logger: log, Registerer: reg,
	})
	if err != nil {
		return nil, fmt.Errorf("store.dynamodb: %w", err)
	}
	return st, nil
}

func openPostgres(ctx context.Context, p *config.PostgresStore, secrets *secret.Registry, reg prometheus.Registerer, log *slog.Logger, readOnly bool) (store.Store, error) {
	if secrets == nil {
		return nil, errors.New("store.postgres.url: no secret registry")
	}
	url, err := secrets.Resolve(ctx, p.URL)
	if err != nil {
		return nil, fmt.Errorf("store.postgres.url: %w", err)
	}
	// postgres.Open keeps the URL's password out of its errors and logs.
	st, err := postgres.Open(ctx, url.Reveal(), postgres.Options{
		Schema: p.Schema, MaxConns: p.MaxConns, Timeout: p.Timeout.D(), Logger: log, Registerer: reg,
		ReadOnly: readOnly,
	})
	if err != nil {
		return nil, fmt.Errorf("store.postgres: %w", err)
	}
	return st, nil
}

// storeUsesAWS reports whether opening the store needs the AWS config: a dynamodb table, or a
// postgres URL kept in SSM or Secrets Manager.
func storeUsesAWS(s config.Store) bool {
	return s.DynamoDB != nil || (s.Postgres != nil && awsSecretRef(s.Postgres.URL))
}

// startHousekeeping adds the store's periodic clean-up (store.housekeeping) to the leader's
// loops. A store with TTL (DynamoDB) has no Prune methods and gets none.
func startHousekeeping(led *leaderOnly, cfg *config.Config, st store.Store, reg prometheus.Registerer, log *slog.Logger) error {
	hk, err := newHousekeeper(cfg, st, reg, log)
	if err != nil {
		return fmt.Errorf("store.housekeeping: %w", err)
	}
	if hk != nil {
		led.Go(hk.Run)
	}
	return nil
}

// newHousekeeper is the housekeeper of st with store.housekeeping's settings (serve's loop, the
// Lambda reconcile and gc share it); nil for a store that expires its rows itself (DynamoDB).
func newHousekeeper(cfg *config.Config, st store.Store, reg prometheus.Registerer, log *slog.Logger) (*housekeep.Housekeeper, error) {
	h := cfg.Store.Housekeeping
	return housekeep.New(st, housekeep.Options{
		Interval: h.Interval.D(), FirstDelay: min(housekeep.DefaultFirstDelay, h.Interval.D()),
		DecisionsPerPool: h.DecisionsPerPool, CheckRetention: h.CheckRetention.D(), Logger: log, Registerer: reg,
	})
}
