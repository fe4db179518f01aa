// Command adofleet gives Azure DevOps pools self-hosted agents that exist only while a job needs
// them. This package only wires the configuration to the internal packages; see DESIGN.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		var ec exitCodeError
		if errors.As(err, &ec) {
			fmt.Fprintln(os.Stderr, "adofleet:", ec.err)
			os.Exit(ec.code)
		}
		fmt.Fprintln(os.Stderr, "adofleet:", err)
		os.Exit(1)
	}
}

// exitCodeError carries a specific exit code out of a command.
type exitCodeError struct {
	code int
	err  error
}

func (e exitCodeError) Error() string { return e.err.Error() }
func (e exitCodeError) Unwrap() error { return e.err }
