package config_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/config"
)

func TestCostConfig(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse("adofleet.yaml", []byte(minimal+"    costPerHour: 0.0416\n  - name: free\n    provider: local\n    max: 1\nweb:\n  currency: EUR\n"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got, want := cfg.CostPerHour(), map[string]float64{"linux": 0.0416}; !cmp.Equal(got, want) {
		t.Errorf("CostPerHour: got %v, want %v", got, want)
	}
	if got := cfg.Web.CostCurrency(); got != "EUR" {
		t.Errorf("CostCurrency: got %q, want EUR", got)
	}
	if got := (config.Web{}).CostCurrency(); got != config.DefaultCurrency {
		t.Errorf("CostCurrency of an unset currency: got %q, want %q", got, config.DefaultCurrency)
	}
}

func TestCostConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml string
		want       config.Error
	}{
		{"negative price", minimal + "    costPerHour: -1\n",
			config.Error{Line: 12, Field: "pools[0].costPerHour", Message: "must be a price of zero or more (one agent for one hour, e.g. 0.0416); got -1"}},
		{"not a number", minimal + "    costPerHour: .nan\n",
			config.Error{Line: 12, Field: "pools[0].costPerHour", Message: "must be a price of zero or more (one agent for one hour, e.g. 0.0416); got NaN"}},
		{"infinite", minimal + "    costPerHour: .inf\n",
			config.Error{Line: 12, Field: "pools[0].costPerHour", Message: "must be a price of zero or more (one agent for one hour, e.g. 0.0416); got +Inf"}},
		{"a word", minimal + "    costPerHour: cheap\n",
			config.Error{Line: 12, Field: "pools[0].costPerHour", Message: `want a number, got "cheap"`}},
		{"long currency", minimal + "web:\n  currency: US dollars\n",
			config.Error{Line: 13, Field: "web.currency", Message: `must be 1-5 letters or a currency symbol, such as USD, EUR or $; got "US dollars"`}},
		{"markup as currency", minimal + "web:\n  currency: <b>\n",
			config.Error{Line: 13, Field: "web.currency", Message: `must be 1-5 letters or a currency symbol, such as USD, EUR or $; got "<b>"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Parse("adofleet.yaml", []byte(tt.yaml))
			var errs *config.Errors
			if !errors.As(err, &errs) || len(errs.List) != 1 {
				t.Fatalf("Parse: got %v, want one error", err)
			}
			got := errs.List[0]
			got.File, got.Column = "", 0
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
	for _, ok := range []string{"USD", "EUR", "$", "€", "£", "kr"} {
		if _, err := config.Parse("a.yaml", []byte(minimal+"web:\n  currency: "+ok+"\n")); err != nil {
			t.Errorf("currency %q: %v", ok, err)
		}
	}
}
