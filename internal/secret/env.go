package secret

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
)

// errEmpty: an empty secret is never a usable credential, and passing one on fails far from here.
var errEmpty = errors.New("resolves to an empty value")

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Env resolves env:NAME from the process environment.
type Env struct {
	// Lookup replaces os.LookupEnv (a seam for tests).
	Lookup func(name string) (string, bool)
}

// Check implements Checker: NAME must be a valid environment variable name.
func (Env) Check(name string) error {
	if !envNameRE.MatchString(name) {
		return fmt.Errorf("%q is not an environment variable name (letters, digits and _, not starting with a digit)", name)
	}
	return nil
}

// Resolve implements Resolver.
func (e Env) Resolve(_ context.Context, name string) (Value, error) {
	lookup := e.Lookup
	if lookup == nil {
		lookup = os.LookupEnv
	}
	s, ok := lookup(name)
	if !ok {
		return Value{}, fmt.Errorf("environment variable %s is not set", name)
	}
	if s == "" {
		return Value{}, fmt.Errorf("environment variable %s is empty", name)
	}
	return New(s), nil
}
