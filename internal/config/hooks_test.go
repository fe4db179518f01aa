package config_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/config"
)

func TestHooksDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse("hooks.yaml", []byte(vmResourcesBase+`hooks:
  enabled: true
  username: ado-hooks
  password: env:HOOKS_PASSWORD
  account: "123456789012"
  region: eu-west-1
`))
	if err != nil {
		t.Fatal(err)
	}
	want := &config.Hooks{
		Enabled: true, Username: "ado-hooks", Password: "env:HOOKS_PASSWORD",
		SecretHeader: "X-Adofleet-Secret", MaxBodyBytes: 512 << 10, Account: "123456789012", Region: "eu-west-1",
	}
	if diff := cmp.Diff(want, cfg.Hooks); diff != "" {
		t.Errorf("hooks (-want +got):\n%s", diff)
	}
}

func TestHooksAbsentStaysNil(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse("hooks.yaml", []byte(vmResourcesBase))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Hooks != nil {
		t.Errorf("hooks = %+v, want nil when the section is absent", cfg.Hooks)
	}
}

func TestHooksErrors(t *testing.T) {
	t.Parallel()
	tests := []fieldErrorCase{
		{"no auth", "hooks:\n  enabled: true\n", "hooks.enabled", "set hooks.username and hooks.password"},
		{"web off", "web:\n  listen: \"off\"\nhooks:\n  enabled: true\n  sharedSecret: env:S\n", "hooks.enabled", "web.listen"},
		{"user without password", "hooks:\n  username: u\n  sharedSecret: env:S\n", "hooks.username", "go together"},
		{"literal password", "hooks:\n  username: u\n  password: hunter2\n", "hooks.password", ""},
		{"bad header", "hooks:\n  sharedSecret: env:S\n  secretHeader: \"X Secret\"\n", "hooks.secretHeader", "HTTP header name"},
		{"negative body", "hooks:\n  sharedSecret: env:S\n  maxBodyBytes: -1\n", "hooks.maxBodyBytes", "positive"},
		{"bad account", "hooks:\n  sharedSecret: env:S\n  account: \"12345\"\n", "hooks.account", "12-digit"},
		{"bad region", "hooks:\n  sharedSecret: env:S\n  region: Ireland\n", "hooks.region", "AWS region"},
		{"unknown field", "hooks:\n  sharedSecret: env:S\n  secret: x\n", "hooks.secret", ""},
	}
	testFieldErrors(t, "hooks.yaml", tests)
}
