package secret_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/adofleet/adofleet/internal/secret"
)

const token = "q7xk2mzp4vd9wr3fn8ht6yc5ja"

func TestValueNeverPrintsTheSecret(t *testing.T) {
	t.Parallel()
	v := secret.New(token)
	type holder struct {
		PAT secret.Value
		Ptr *secret.Value
	}
	h := holder{PAT: v, Ptr: &v}
	outputs := map[string]string{}
	for _, verb := range []string{"%s", "%v", "%+v", "%#v", "%q", "%x", "%X", "%d", "%10s", "%-10v"} {
		outputs["Sprintf "+verb] = fmt.Sprintf(verb, v)
		outputs["Sprintf struct "+verb] = fmt.Sprintf(verb, h)
	}
	outputs["Sprint"] = fmt.Sprint(v)
	outputs["Sprintln"] = fmt.Sprintln(v, &v)
	outputs["error"] = fmt.Errorf("calling ADO with %v: %w", v, errors.New("boom")).Error()
	js, err := json.Marshal(map[string]any{"v": v, "h": h, "m": map[secret.Value]int{v: 1}})
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	outputs["json"] = string(js)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("m", "pat", v, "ptr", &v, "h", h)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("m", "pat", v, "group", slog.Group("g", "pat", v))
	outputs["slog"] = logs.String()

	for name, out := range outputs {
		if strings.Contains(out, token) || strings.Contains(out, fmt.Sprintf("%x", token)) {
			t.Errorf("%s printed the secret: %s", name, out)
		}
		if !strings.Contains(out, secret.Redacted) {
			t.Errorf("%s = %q, want it to contain %q", name, out, secret.Redacted)
		}
	}
	if got := fmt.Sprintf("%#v", v); got != "secret.Value([redacted])" {
		t.Errorf("%%#v = %q, want %q", got, "secret.Value([redacted])")
	}
	if got := fmt.Sprintf("%q", v); got != `"[redacted]"` {
		t.Errorf("%%q = %q, want %q", got, `"[redacted]"`)
	}
}

func TestValueRevealAndZero(t *testing.T) {
	t.Parallel()
	v := secret.New(token)
	if got := v.Reveal(); got != token {
		t.Errorf("Reveal() = %q, want the secret", got)
	}
	if v.IsZero() {
		t.Error("IsZero() = true for a set value")
	}
	if !(secret.Value{}).IsZero() {
		t.Error("IsZero() = false for the zero Value")
	}
	if got, want := v.WithWarning("too open").Warning(), "too open"; got != want {
		t.Errorf("Warning() = %q, want %q", got, want)
	}
	if got := v.Warning(); got != "" {
		t.Errorf("WithWarning changed the receiver: Warning() = %q", got)
	}
}
