package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/postgres"
)

// adminConn is a connection as the test server's superuser, to look at or change the database
// the way another tool would.
func adminConn(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), serverURL(t))
	if err != nil {
		t.Fatalf("connect as admin: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// appliedMigrations lists the schema_migrations rows of schema, by version.
func appliedMigrations(t *testing.T, schema string) []int {
	t.Helper()
	rows, err := adminConn(t).Query(t.Context(),
		`SELECT version FROM `+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+` ORDER BY version`)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	return versions
}

// syncBuffer is a log sink several stores write to at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestMigrateConcurrently starts several controllers on one new schema at once: every Open
// succeeds, each migration is applied (and logged) exactly once.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	url, schema := serverURL(t), schemaFor(t, "migrate_race")
	const racers = 8
	var (
		logs  syncBuffer
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	stores := make([]*postgres.Store, racers)
	for i := range racers {
		wg.Go(func() {
			<-start
			log := slog.New(slog.NewTextHandler(&logs, nil))
			s, err := postgres.Open(t.Context(), url, postgres.Options{Schema: schema, Logger: log})
			if err != nil {
				t.Errorf("racer %d: Open: %v", i, err)
				return
			}
			stores[i] = s
		})
	}
	close(start)
	wg.Wait()
	for _, s := range stores {
		if s != nil {
			t.Cleanup(func() { _ = s.Close() })
		}
	}
	if t.Failed() {
		return
	}
	var want []int
	for v := 1; v <= postgres.Migrations(); v++ {
		want = append(want, v)
	}
	if got := appliedMigrations(t, schema); !slices.Equal(got, want) {
		t.Errorf("schema_migrations: got versions %v, want %v (each once)", got, want)
	}
	if got := strings.Count(logs.String(), "applied schema migration"); got != postgres.Migrations() {
		t.Errorf("migrations applied across %d racers: got %d, want %d\n%s", racers, got, postgres.Migrations(), logs.String())
	}
	// Every racer works on the same tables.
	if err := stores[0].CreateAgent(t.Context(), store.AgentRecord{Name: "a", Pool: "p", State: store.StateLaunching}); err != nil {
		t.Fatalf("CreateAgent: %v", err)
	}
	if _, err := stores[racers-1].GetAgent(t.Context(), "a"); err != nil {
		t.Errorf("GetAgent through another racer's store: %v", err)
	}
}

// TestUpgradeFromNothing opens a schema at version 0 (schema and bookkeeping only), then
// upgrades it, as a new binary would.
func TestUpgradeFromNothing(t *testing.T) {
	t.Parallel()
	url, schema := serverURL(t), schemaFor(t, "upgrade")
	old, err := postgres.OpenAt(t.Context(), url, postgres.Options{Schema: schema}, 0)
	if err != nil {
		t.Fatalf("OpenAt(0): %v", err)
	}
	if v, err := old.SchemaVersion(t.Context()); err != nil || v != 0 {
		t.Errorf("SchemaVersion at 0: got %d, %v; want 0, nil", v, err)
	}
	_ = old.Close()
	s := openSchema(t, schema, postgres.Options{})
	if v, err := s.SchemaVersion(t.Context()); err != nil || v != postgres.Migrations() {
		t.Errorf("SchemaVersion after upgrade: got %d, %v; want %d, nil", v, err, postgres.Migrations())
	}
	if err := s.CreateAgent(t.Context(), store.AgentRecord{Name: "a", Pool: "p", State: store.StateLaunching}); err != nil {
		t.Errorf("CreateAgent after upgrade: %v", err)
	}
}

// TestRefuseNewerSchema: a binary older than the schema must not write to it.
func TestRefuseNewerSchema(t *testing.T) {
	t.Parallel()
	schema := schemaFor(t, "newer")
	openSchema(t, schema, postgres.Options{}).Close()
	newer := postgres.Migrations() + 1
	if _, err := adminConn(t).Exec(t.Context(), `INSERT INTO `+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+
		` (version, name) VALUES ($1, 'from_the_future')`, newer); err != nil {
		t.Fatalf("insert a future migration: %v", err)
	}
	_, err := postgres.Open(t.Context(), serverURL(t), postgres.Options{Schema: schema})
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("Open of a schema at version %d: got %v, want an error saying it is newer", newer, err)
	}
}

// TestLeastPrivilege checks the permissions docs/postgres.md gives: a role that owns a schema a
// DBA created for it can open it without the CREATE privilege on the database, and a role
// without that privilege cannot create a schema of its own.
func TestLeastPrivilege(t *testing.T) {
	t.Parallel()
	admin := adminConn(t)
	role := schemaFor(t, "role") // unique, and a valid role name too
	password := "role-pw-" + runID
	schema := schemaFor(t, "owned")
	for _, stmt := range []string{
		`CREATE ROLE ` + pgx.Identifier{role}.Sanitize() + ` LOGIN PASSWORD '` + password + `'`,
		`CREATE SCHEMA ` + pgx.Identifier{schema}.Sanitize() + ` AUTHORIZATION ` + pgx.Identifier{role}.Sanitize(),
	} {
		if _, err := admin.Exec(t.Context(), stmt); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "42501" { // insufficient_privilege: an external server
				t.Skipf("the test server's user may not create roles: %v", err)
			}
			t.Fatalf("%s: %v", strings.SplitN(stmt, " PASSWORD", 2)[0], err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // t.Context() is done by now
		defer cancel()
		conn, err := pgx.Connect(ctx, serverURL(t))
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`)
		_, _ = conn.Exec(ctx, `DROP ROLE IF EXISTS `+pgx.Identifier{role}.Sanitize())
	})
	cfg, err := pgx.ParseConfig(serverURL(t))
	if err != nil {
		t.Fatalf("parse server url: %v", err)
	}
	roleURL := strings.Replace(serverURL(t), cfg.User+":"+cfg.Password+"@", role+":"+password+"@", 1)

	s, err := postgres.Open(t.Context(), roleURL, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatalf("Open of a schema the role owns: %v", err)
	}
	defer s.Close()
	if err := s.CreateAgent(t.Context(), store.AgentRecord{Name: "a", Pool: "p", State: store.StateLaunching}); err != nil {
		t.Errorf("CreateAgent as the schema's owner: %v", err)
	}

	_, err = postgres.Open(t.Context(), roleURL, postgres.Options{Schema: schemaFor(t, "not_owned")})
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Errorf("Open of a missing schema without CREATE on the database: got %v, want permission denied (42501)", err)
	}
}

// openSchema opens schema (made by schemaFor) and closes the store when the test ends.
func openSchema(t *testing.T, schema string, opts postgres.Options) *postgres.Store {
	t.Helper()
	opts.Schema = schema
	s, err := postgres.Open(t.Context(), serverURL(t), opts)
	if err != nil {
		t.Fatalf("Open(schema %q): %v", schema, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
