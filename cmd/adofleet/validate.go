package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newValidateCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "validate -c FILE",
		Short: "Check a config file and print every error with its line and field",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return exitCodeError{code: 2, err: fmt.Errorf("%s is not valid", path)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%d pool(s))\n", path, len(cfg.Pools))
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "adofleet.yaml", "config file")
	return cmd
}
