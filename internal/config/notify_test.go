package config_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/notify"
)

func TestNotifySection(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse("adofleet.yaml", []byte(minimal+`
notify:
  routes:
    - name: ops
      type: slack
      url: env:SLACK_URL
    - name: hook
      type: webhook
      url: file:/run/secrets/hook-url
      signingSecret: env:HOOK_KEY
      events: ["vmresource.*", run.completed]
      pools: [linux]
      minSeverity: warning
      title: "{{.Pool}}: {{.Summary}}"
      dedupWindow: 1h
      ratePerMinute: 5
      maxAttempts: 3
  thresholds:
    poolAtMax: 30m
`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []notify.Route{
		{Name: "ops", Kind: notify.KindSlack, URL: "env:SLACK_URL", MinSeverity: notify.SeverityInfo,
			DedupWindow: 10 * time.Minute, RatePerMinute: 20, MaxAttempts: 8},
		{Name: "hook", Kind: notify.KindWebhook, URL: "file:/run/secrets/hook-url", SigningSecret: "env:HOOK_KEY",
			Events: []string{"vmresource.*", "run.completed"}, Pools: []string{"linux"}, MinSeverity: notify.SeverityWarning,
			Title: "{{.Pool}}: {{.Summary}}", DedupWindow: time.Hour, RatePerMinute: 5, MaxAttempts: 3},
	}
	if d := cmp.Diff(want, cfg.NotifyRoutes()); d != "" {
		t.Errorf("routes (-want +got):\n%s", d)
	}
	for _, r := range cfg.NotifyRoutes() {
		if err := r.Check(); err != nil {
			t.Errorf("route %s from a valid config fails notify's check: %v", r.Name, err)
		}
	}
	wantT := config.NotifyThresholds{JobWait: config.Duration(10 * time.Minute), PoolAtMax: config.Duration(30 * time.Minute)}
	if got := cfg.NotifyThresholds(); got != wantT {
		t.Errorf("thresholds = %+v, want %+v", got, wantT)
	}

	bare, err := config.Parse("adofleet.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if bare.NotifyRoutes() != nil {
		t.Errorf("routes without a notify section = %v, want none", bare.NotifyRoutes())
	}
	wantT.PoolAtMax = config.Duration(15 * time.Minute)
	if got := bare.NotifyThresholds(); got != wantT {
		t.Errorf("thresholds without a notify section = %+v, want the defaults %+v", got, wantT)
	}
}
