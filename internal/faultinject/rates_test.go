package faultinject_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/faultinject"
)

func TestParseRates(t *testing.T) {
	t.Parallel()
	defaults := faultinject.Rates{}.WithDefaults()
	withDefaults := func(r faultinject.Rates) faultinject.Rates { return r.WithDefaults() }
	tests := []struct {
		spec string
		want faultinject.Rates
	}{
		{"", defaults},
		{"none", defaults},
		{"ado429=0.05,ado500=0.02,launchfail=0.1", withDefaults(faultinject.Rates{ADOThrottle: 0.05, ADOServerError: 0.02, LaunchFail: 0.1})},
		{" ADOtimeout = 0.5 , adoslow=0.25,adolost=1", withDefaults(faultinject.Rates{ADOTimeout: 0.5, ADOSlow: 0.25, ADOLost: 1})},
		{"launchlate=0.2,loss=0.01,terminatefail=0.3,storefail=0.04", withDefaults(faultinject.Rates{LaunchLate: 0.2, InstanceLoss: 0.01, TerminateFail: 0.3, StoreWriteFail: 0.04})},
		{"retryafter=10s,timeout=1m,slow=500ms,late=20m", faultinject.Rates{RetryAfter: 10 * time.Second, Timeout: time.Minute, Slow: 500 * time.Millisecond, LateBy: 20 * time.Minute}},
		{"moderate", withDefaults(faultinject.Moderate)},
		{"moderate,storefail=0", func() faultinject.Rates {
			r := faultinject.Moderate
			r.StoreWriteFail = 0
			return r.WithDefaults()
		}()},
	}
	for _, tt := range tests {
		got, err := faultinject.ParseRates(tt.spec)
		if err != nil {
			t.Errorf("ParseRates(%q): %v", tt.spec, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseRates(%q) (-want +got):\n%s", tt.spec, diff)
		}
	}
}

func TestParseRatesErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ spec, want string }{
		{"ado429", `item 1 "ado429": want key=value`},
		{"ado429=0.1,bogus=1", `unknown key "bogus"`},
		{"ado429=0.1,ado429=0.2", `key "ado429" given twice`},
		{"launchfail=1.5", `launchfail="1.5": want a probability between 0 and 1`},
		{"storefail=-0.1", `storefail="-0.1": want a probability`},
		{"loss=abc", `loss="abc": want a probability`},
		{"slow=fast", `slow="fast": want a positive duration`},
		{"late=-1m", `late="-1m": want a positive duration`},
		{"ado429=0.6,ado500=0.6", "ado429+ado500+adotimeout+adoslow is 1.2, want at most 1"},
		{"launchfail=0.7,launchlate=0.4", "launchfail+launchlate is 1.1"},
		{"storefail=0.1,moderate", `"moderate" must come first`},
	}
	for _, tt := range tests {
		_, err := faultinject.ParseRates(tt.spec)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseRates(%q) error = %v, want one containing %q", tt.spec, err, tt.want)
		}
	}
}

func TestRatesStringParsesBack(t *testing.T) {
	t.Parallel()
	for _, r := range []faultinject.Rates{{}, faultinject.Moderate, {ADOLost: 0.125, LateBy: time.Hour}} {
		got, err := faultinject.ParseRates(r.String())
		if err != nil {
			t.Fatalf("ParseRates(%q): %v", r.String(), err)
		}
		if diff := cmp.Diff(r.WithDefaults(), got); diff != "" {
			t.Errorf("ParseRates(%q) (-want +got):\n%s", r.String(), diff)
		}
	}
}
