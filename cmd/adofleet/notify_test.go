package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/secret"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

func TestOpenNotify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "adofleet.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	secrets := secret.NewRegistry(nil)
	log := slog.New(slog.DiscardHandler)

	pub, stop, err := openNotify(ctx, &config.Config{}, st, secrets, prometheus.NewRegistry(), log)
	if err != nil || pub != notify.Discard {
		t.Fatalf("no routes: openNotify = %v, %v; want notify.Discard", pub, err)
	}
	stop()

	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r.URL.Path + " " + string(b)
	}))
	defer srv.Close()
	urlFile := filepath.Join(t.TempDir(), "slack-url")
	if err := os.WriteFile(urlFile, []byte(srv.URL+"/services/T/B/secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Notify: &config.Notify{Routes: []config.NotifyRoute{{Name: "ops", Type: "slack", URL: "file:" + urlFile}}}}
	cfg.SetDefaults()
	pub, stop, err = openNotify(ctx, cfg, st, secrets, prometheus.NewRegistry(), log)
	if err != nil {
		t.Fatalf("openNotify: %v", err)
	}
	defer stop()
	if err := pub.Publish(ctx, notify.Event{Type: notify.OrphanTerminated, Severity: notify.SeverityWarning, Summary: "terminated i-1"}); err != nil {
		t.Fatal(err)
	}
	select {
	case req := <-got:
		if !strings.HasPrefix(req, "/services/T/B/secret ") || !strings.Contains(req, "terminated i-1") {
			t.Errorf("receiver got %q", req)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("nothing delivered")
	}
}
