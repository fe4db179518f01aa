package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/adofleet/adofleet/internal/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "adofleet",
		Short: "Ephemeral self-hosted Azure DevOps agents on the compute you already own",
		Long: `adofleet scales Azure DevOps agent pools with agents that exist only while a job needs them,
on local processes today and on AWS, Azure and Kubernetes as providers land.

Start with "adofleet demo": everything embedded, no cloud account and no ADO organization.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.AddCommand(newDemoCmd(), newServeCmd(), newValidateCmd(), newAgentSimCmd(), newLambdaCmd())
	root.AddCommand(newUserDataCmd(), newVMResourcesCmd())
	root.AddCommand(newGCCmd(), newStatusCmd())
	root.AddCommand(newSimulateCmd(), newTraceCmd())
	return root
}

// newLogger builds the process logger: text for people, JSON for machines.
func newLogger(w io.Writer, level string, json bool) (*slog.Logger, error) {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "", "info":
		lv = slog.LevelInfo
	case "debug":
		lv = slog.LevelDebug
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	if json {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// loadCommandConfig is loadConfig for a command: a config that does not load is printed with every
// error to the command's stderr and ends it with exit code 2.
func loadCommandConfig(cmd *cobra.Command, path string) (*config.Config, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), err)
		return nil, exitCodeError{code: 2, err: fmt.Errorf("%s is not valid (run adofleet validate -c %s)", path, path)}
	}
	return cfg, nil
}
