// Package promreg registers Prometheus collectors so that a second instance of a component on the
// same registry (a second provider, a reopened store, a controller restarted in one process, a
// Lambda warm start) shares the series already registered instead of failing. Every package that
// exports metrics registers through it.
package promreg

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers c on reg and returns it, or returns the collector of the same type already
// registered under its name. A nil reg leaves c unregistered. Any other error (a clashing metric
// of another shape) is returned with c.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if reg == nil {
		return c, nil
	}
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("register metrics: %w", err)
}

// MustRegister is Register for callers where a clash can only be a programming error: it panics.
func MustRegister[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	c, err := Register(reg, c)
	if err != nil {
		panic(err)
	}
	return c
}
