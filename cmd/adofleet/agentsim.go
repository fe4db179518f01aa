package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/adofleet/adofleet/internal/adosim"
)

// newAgentSimCmd runs one simulated agent against the ADO simulator. The local provider starts it
// as a child process in the demo, with the same environment variables a real agent wrapper reads.
func newAgentSimCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "agent-sim",
		Short:  "Run one simulated Azure Pipelines agent (used by the demo; reads AZP_* variables)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := adosim.AgentOptionsFromEnv(os.Getenv)
			if err != nil {
				return err
			}
			logger, err := newLogger(cmd.ErrOrStderr(), os.Getenv("ADOFLEET_LOG_LEVEL"), false)
			if err != nil {
				return err
			}
			opts.Logger = logger.With("component", "agent-sim", "agent", opts.Name)
			// A real agent's machine takes a while to boot; the demo simulates it so the dashboard
			// shows agents starting, as it would on real compute.
			if v := os.Getenv("ADOFLEET_SIM_BOOT_DELAY"); v != "" {
				d, err := time.ParseDuration(v)
				if err != nil || d < 0 {
					return fmt.Errorf("ADOFLEET_SIM_BOOT_DELAY: want a duration such as 2s, got %q", v)
				}
				select {
				case <-cmd.Context().Done():
					return nil // stopped before it registered: nothing to clean up, a normal end
				case <-time.After(d):
				}
			}
			err = adosim.RunAgent(cmd.Context(), opts)
			if err != nil && cmd.Context().Err() != nil {
				// Stopped by SIGTERM/SIGINT (a terminate, a shutdown): a normal end, exit 0. RunAgent
				// has already finished a running job as canceled and closed the session.
				return nil
			}
			return err
		},
	}
}
