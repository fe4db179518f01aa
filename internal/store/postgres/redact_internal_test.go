package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// pgx redacts passwords in its own errors today; redact is the second line, for errors that
// quote a connection string some other way (net/url, a future pgx). These cases feed it
// messages that quote the raw string, as such an error would.
func TestRedactString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		conn   string
		hidden []string
	}{
		{"URL", "postgres://app:Pa55word@db.example:5432/adofleet", []string{"Pa55word"}},
		{"URL, percent-encoded", "postgres://app:p%40ss%2Fword@db.example/adofleet", []string{"p%40ss%2Fword", "p@ss/word"}},
		{"URL, malformed with raw @ and /", "postgres://app:p@ss/w@rd@db.example/adofleet", []string{"p@ss/w@rd"}},
		{"URL, multiple hosts", "postgres://app:Pa55word@h1:5432,h2:5432/adofleet", []string{"Pa55word"}},
		{"URL, password parameter", "postgres://app@db.example/adofleet?sslmode=require&password=Pa55word", []string{"Pa55word"}},
		{"key=value", "host=db.example user=app password=Pa55word dbname=adofleet", []string{"Pa55word"}},
		{"key=value, quoted with spaces", `host=db.example password='Pa55 w\'ord' dbname=adofleet`, []string{"Pa55 w'ord", `Pa55 w\'ord`}},
		{"key=value, spaces around =", "host=db.example password = Pa55word", []string{"Pa55word"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The message quotes the connection string raw, and again with the URL's decoding.
			msg := fmt.Sprintf("parse %q: bad; decoded: %s", tc.conn, strings.Join(tc.hidden, " "))
			got := redactString(msg, passwords(tc.conn))
			for _, h := range tc.hidden {
				if strings.Contains(got, h) {
					t.Errorf("redactString(%q) = %q: still contains %q", msg, got, h)
				}
			}
			if !strings.Contains(got, redacted) {
				t.Errorf("redactString(%q) = %q: want %q in place of the password", msg, got, redacted)
			}
		})
	}
}

func TestRedactKeepsChain(t *testing.T) {
	t.Parallel()
	err := redact(fmt.Errorf("connect to postgres://u:Pa55word@h/db: %w", context.Canceled), []string{"Pa55word"})
	if strings.Contains(err.Error(), "Pa55word") {
		t.Errorf("redact: got %q, want the password removed", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("redact(%v): errors.Is(context.Canceled) = false, want true", err)
	}
	if redact(nil, nil) != nil {
		t.Error("redact(nil): got an error, want nil")
	}
}
