package main

import (
	"os"

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
			return adosim.RunAgent(cmd.Context(), opts)
		},
	}
}
