package promreg_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/promreg"
)

func TestRegisterSharesTheExistingCollector(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "adofleet_test_total", Help: "test"}
	first, err := promreg.Register(reg, prometheus.NewCounterVec(opts, []string{"pool"}))
	if err != nil {
		t.Fatal(err)
	}
	second, err := promreg.Register(reg, prometheus.NewCounterVec(opts, []string{"pool"}))
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Error("the second registration got a new collector, want the first one")
	}
	// A metric of the same name but another shape is a clash, not a share.
	_, err = promreg.Register(reg, prometheus.NewCounterVec(opts, []string{"other"}))
	if err == nil || !strings.Contains(err.Error(), "register metrics") {
		t.Errorf("clash: err = %v, want a register metrics error", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("MustRegister did not panic on a clash")
			}
		}()
		promreg.MustRegister(reg, prometheus.NewCounterVec(opts, []string{"other"}))
	}()
	c := prometheus.NewCounterVec(opts, []string{"pool"})
	if got, err := promreg.Register(nil, c); err != nil || got != c {
		t.Errorf("nil registry: got %v, %v; want the collector back unregistered", got, err)
	}
}
