package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/postgres"
)

// withPassword is the test server's URL with its password replaced by pw (URL-encoded).
func withPassword(t *testing.T, pw string) string {
	t.Helper()
	u, err := url.Parse(serverURL(t))
	if err != nil || u.User == nil {
		t.Skipf("ADOFLEET_TEST_POSTGRES_URL is not a postgres:// URL with a user: cannot rewrite its password")
	}
	u.User = url.UserPassword(u.User.Username(), pw)
	return u.String()
}

// TestPasswordNeverInErrors opens with URLs that fail in every way a password could be echoed
// (parse errors, bad parameters, authentication failure, no server) and checks neither the
// URL's password nor the real one appears in the error or the log.
func TestPasswordNeverInErrors(t *testing.T) {
	t.Parallel()
	const secret = "Hunter2-s3cr3t"
	sock := t.TempDir() // nothing listens here
	tests := []struct {
		name    string
		url     string
		secrets []string // must not appear
	}{
		{"wrong password", withPassword(t, secret), []string{secret}},
		{"wrong password with reserved characters", withPassword(t, secret+"@:/?#%"), []string{secret}},
		{"no server", "postgres://adofleet:" + secret + "@/adofleet?host=" + sock, []string{secret}},
		{"bad port", "postgres://adofleet:" + secret + "@db.example:notaport/adofleet", []string{secret}},
		{"bad IPv6 host", "postgres://adofleet:" + secret + "@[::1/adofleet", []string{secret}},
		{"bad percent escape", "postgres://adofleet:" + secret + "%zz@db.example/adofleet", []string{secret}},
		{"percent-encoded password", "postgres://adofleet:" + secret + "%40x@/adofleet?host=" + sock, []string{secret, secret + "@x", secret + "%40x"}},
		{"bad URL parameter", "postgres://adofleet:" + secret + "@/adofleet?host=" + sock + "&connect_timeout=soon", []string{secret}},
		{"bad pool parameter", "postgres://adofleet:" + secret + "@/adofleet?host=" + sock + "&pool_max_conns=many", []string{secret}},
		{"key=value form", "host=" + sock + " user=adofleet password=" + secret + " dbname=adofleet", []string{secret}},
		{"key=value form, quoted", "host=" + sock + " user=adofleet password='" + secret + " x' dbname=adofleet", []string{secret}},
		{"key=value form, bad value", "host=" + sock + " user=adofleet password=" + secret + " connect_timeout=soon", []string{secret}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs syncBuffer
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			s, err := postgres.Open(ctx, tc.url, postgres.Options{
				Schema: schemaFor(t, "secret"), Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			})
			if err == nil {
				_ = s.Close()
				t.Fatalf("Open succeeded; want an error (does the test server accept any password?)")
			}
			shown := fmt.Sprintf("%v | %+v | %q | %s", err, err, err, logs.String())
			for _, sec := range append(tc.secrets, server.password) {
				if sec != "" && strings.Contains(shown, sec) {
					t.Errorf("password %q appears in the error or log:\n%s", sec, shown)
				}
			}
			if !strings.HasPrefix(err.Error(), "postgres: ") {
				t.Errorf("error %q: want it to start with %q", err, "postgres: ")
			}
		})
	}
}

// TestPasswordNotLogged opens successfully and checks the log says where, but not the password.
func TestPasswordNotLogged(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	schema := schemaFor(t, "logged")
	openSchema(t, schema, postgres.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	out := logs.String()
	if !strings.Contains(out, "applied schema migration") || !strings.Contains(out, schema) {
		t.Errorf("log: got %q, want the applied migrations and the schema", out)
	}
	if server.password != "" && strings.Contains(out, server.password) {
		t.Errorf("log contains the password:\n%s", out)
	}
}

func TestInvalidOptions(t *testing.T) {
	t.Parallel()
	url := serverURL(t)
	for name, opts := range map[string]postgres.Options{
		"schema too long":   {Schema: strings.Repeat("s", 64)},
		"negative MaxConns": {MaxConns: -1},
		"negative Timeout":  {Timeout: -time.Second},
	} {
		if s, err := postgres.Open(t.Context(), url, opts); err == nil {
			_ = s.Close()
			t.Errorf("Open with %s: got nil error, want one", name)
		}
	}
}

// TestSchemasAreSeparate checks two stores on one database with different schemas share
// nothing, and that a schema name needing quotes works.
func TestSchemasAreSeparate(t *testing.T) {
	t.Parallel()
	a := openTemp(t, "plain", postgres.Options{})
	b := openSchema(t, remember(schemaFor(t, "Odd")+` "Name"-ä`), postgres.Options{})
	ctx := t.Context()
	if err := a.CreateAgent(ctx, store.AgentRecord{Name: "agent-1", Pool: "linux", State: store.StateLaunching}); err != nil {
		t.Fatalf("CreateAgent in a: %v", err)
	}
	if _, err := b.GetAgent(ctx, "agent-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAgent in b of a's agent: got %v, want ErrNotFound", err)
	}
	if err := b.CreateAgent(ctx, store.AgentRecord{Name: "agent-1", Pool: "windows", State: store.StateLaunching}); err != nil {
		t.Fatalf("CreateAgent in b of a name a has: %v", err)
	}
	if got, err := a.GetAgent(ctx, "agent-1"); err != nil || got.Pool != "linux" {
		t.Errorf("a's agent after b's create: got pool %q, err %v; want linux, nil", got.Pool, err)
	}
}

// TestTimeoutBoundsBlockedCalls holds a row lock from another session: an update that has to
// wait for it is aborted by the server's statement_timeout (Options.Timeout) instead of hanging,
// and so is known to have changed nothing.
func TestTimeoutBoundsBlockedCalls(t *testing.T) {
	t.Parallel()
	schema := schemaFor(t, "timeout")
	// Setup and the final read go through a store with the default timeout, so a loaded machine
	// cannot fail them; only the update that is meant to block uses the short one.
	setup := openSchema(t, schema, postgres.Options{})
	s := openSchema(t, schema, postgres.Options{Timeout: 300 * time.Millisecond})
	ctx := t.Context()
	r := store.AgentRecord{Name: "agent-1", Pool: "linux", State: store.StateLaunching}
	if err := setup.CreateAgent(ctx, r); err != nil {
		t.Fatalf("CreateAgent: %v", err)
	}
	tx, err := adminConn(t).Begin(ctx)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM `+pgx.Identifier{schema, "agents"}.Sanitize()+` WHERE name = 'agent-1' FOR UPDATE`); err != nil {
		t.Fatalf("lock the row: %v", err)
	}
	r.Version, r.State = 1, store.StateLaunched
	_, err = s.UpdateAgent(ctx, r)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Errorf("UpdateAgent blocked on a lock: got %v, want the server's statement timeout (57014)", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	got, err := setup.GetAgent(ctx, "agent-1")
	if err != nil || got.Version != 1 || got.State != store.StateLaunching {
		t.Errorf("after the timed-out update: got version %d state %s err %v; want 1 launching nil", got.Version, got.State, err)
	}
}

// TestPasswordFromEnvironment: docs/postgres.md tells users to leave the password out of the
// URL and set PGPASSWORD; that must work. Not parallel: it sets the environment.
func TestPasswordFromEnvironment(t *testing.T) {
	u, err := url.Parse(serverURL(t))
	if err != nil || u.User == nil {
		t.Skip("ADOFLEET_TEST_POSTGRES_URL is not a postgres:// URL with a user")
	}
	pw, ok := u.User.Password()
	if !ok {
		t.Skip("the test server's URL has no password to move to the environment")
	}
	u.User = url.User(u.User.Username())
	t.Setenv("PGPASSWORD", pw)
	s, err := postgres.Open(t.Context(), u.String(), postgres.Options{Schema: schemaFor(t, "pgpassword")})
	if err != nil {
		t.Fatalf("Open with the password in PGPASSWORD: %v", err)
	}
	_ = s.Close()
}
