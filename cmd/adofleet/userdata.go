package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/adofleet/adofleet/internal/config"
)

// defaultAgentVersion is the Azure Pipelines agent release the user data downloads when the
// environment sets no agentUrl (the same release deploy/agent builds from).
const defaultAgentVersion = "4.255.0"

// agentPackageURL is the agent release for platform (linux-x64, linux-arm64, win-x64).
func agentPackageURL(platform string) string {
	ext := ".tar.gz"
	if strings.HasPrefix(platform, "win-") {
		ext = ".zip"
	}
	return "https://download.agent.dev.azure.com/agent/" + defaultAgentVersion +
		"/vsts-agent-" + platform + "-" + defaultAgentVersion + ext
}

// maxUserData is EC2's limit on user data before base64 encoding.
const maxUserData = 16 * 1024

// userDataParams is what the launch scripts see.
type userDataParams struct {
	Version        string
	OrgURL         string
	Project        string
	Environment    string
	Tags           string // comma-separated, as the agent takes them
	TokenParameter string
	AgentDir       string
	AgentURL       string // "" = the default release for the OS and architecture
	AgentURLX64    string
	AgentURLArm64  string
	// AgentURLWindows is the default Windows package.
	AgentURLWindows string
}

var userDataTemplates = template.Must(template.New("linux").Option("missingkey=error").
	Funcs(template.FuncMap{"sh": shQuote, "ps": psQuote}).Parse(userDataBash))

func init() {
	template.Must(userDataTemplates.New("windows").Parse(userDataPowerShell))
}

// shQuote single-quotes s for a POSIX shell.
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// psQuote single-quotes s for PowerShell, where a quote inside doubles. PowerShell also takes the
// typographic quotes (U+2018, U+2019, U+201A, U+201B) as single quotes: they double too.
func psQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'', '\u2018', '\u2019', '\u201A', '\u201B':
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

// renderUserData returns the launch script of env for goos ("linux" or "windows").
func renderUserData(cfg *config.Config, env config.VMEnvironment, goos, agentDir string) ([]byte, error) {
	if env.TokenParameter == "" {
		return nil, fmt.Errorf("vmResources environment %s/%s has no tokenParameter: the instance reads its registration PAT from that SSM parameter at boot", env.Project, env.Environment)
	}
	// Quoting keeps any value inert, but a line break in a name would still break the comment
	// lines that echo it; ADO names cannot hold one anyway.
	for _, s := range append([]string{env.Project, env.Environment, agentDir}, env.Tags...) {
		if strings.ContainsAny(s, "\r\n\x00") {
			return nil, errors.New("userdata: a project, environment, tag or agent directory contains a line break or NUL")
		}
	}
	p := userDataParams{
		Version: version, OrgURL: cfg.Organization.URL,
		Project: env.Project, Environment: env.Environment, Tags: strings.Join(env.Tags, ","),
		TokenParameter: env.TokenParameter, AgentDir: agentDir, AgentURL: env.AgentURL,
		AgentURLX64: agentPackageURL("linux-x64"), AgentURLArm64: agentPackageURL("linux-arm64"),
		AgentURLWindows: agentPackageURL("win-x64"),
	}
	var buf bytes.Buffer
	if err := userDataTemplates.ExecuteTemplate(&buf, goos, p); err != nil {
		return nil, fmt.Errorf("userdata: render the %s script: %w", goos, err)
	}
	if buf.Len() > maxUserData {
		return nil, fmt.Errorf("userdata: the script is %d bytes; EC2 allows %d", buf.Len(), maxUserData)
	}
	return buf.Bytes(), nil
}

func newUserDataCmd() *cobra.Command {
	var path, envName, project, goos, agentDir string
	var b64 bool
	cmd := &cobra.Command{
		Use:   "userdata --environment NAME [-c FILE] [--os linux|windows]",
		Short: "Print the launch script that registers an EC2 instance as an Environment VM resource",
		Long: `userdata prints the user data for the launch template of an Auto Scaling group listed under
vmResources.environments: at first boot the instance reads its id and region from IMDSv2, reads the
registration PAT from the environment's tokenParameter (SSM, with the instance role), downloads the
agent when the image has none, and registers itself in the Environment as a VM resource named by its
instance id, with the environment's tags, running the agent as a service. The PAT is never in the
user data, never on a command line and never logged.

Linux: a bash script (cloud-init). Windows: a <powershell> block (EC2Launch), which reads the PAT
with AWS Tools for PowerShell.`,
		Example: `  adofleet userdata -c adofleet.yaml --environment production > userdata.sh
  adofleet userdata -c adofleet.yaml --environment production --os windows --base64`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadCommandConfig(cmd, path)
			if err != nil {
				return err
			}
			env, err := userDataEnvironment(cfg, project, envName)
			if err != nil {
				return exitCodeError{code: 2, err: err}
			}
			switch goos {
			case "linux", "windows":
			default:
				return exitCodeError{code: 2, err: fmt.Errorf("--os %q: want linux or windows", goos)}
			}
			if agentDir == "" {
				agentDir = map[string]string{"linux": "/opt/azagent", "windows": `C:\azagent`}[goos]
			}
			script, err := renderUserData(cfg, env, goos, agentDir)
			if err != nil {
				return exitCodeError{code: 2, err: err}
			}
			out := cmd.OutOrStdout()
			if b64 {
				_, err = fmt.Fprintln(out, base64.StdEncoding.EncodeToString(script))
			} else {
				_, err = out.Write(script)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&path, "config", "c", "adofleet.yaml", "config file")
	f.StringVar(&envName, "environment", "", "the Environment (vmResources.environments[].environment)")
	f.StringVar(&project, "project", "", "its project, when the name is in several projects")
	f.StringVar(&goos, "os", "linux", "linux (bash) or windows (PowerShell)")
	f.StringVar(&agentDir, "agent-dir", "", `where the agent lives on the instance (default /opt/azagent, C:\azagent)`)
	f.BoolVar(&b64, "base64", false, "print the script base64-encoded, as the EC2 APIs take user data")
	_ = cmd.MarkFlagRequired("environment")
	return cmd
}

// userDataEnvironment finds the configured environment by name (and project, when given).
func userDataEnvironment(cfg *config.Config, project, name string) (config.VMEnvironment, error) {
	v := cfg.VMResources
	if v == nil {
		return config.VMEnvironment{}, errors.New("the config has no vmResources section: list the Environment under vmResources.environments")
	}
	var found []config.VMEnvironment
	for _, e := range v.Environments {
		if strings.EqualFold(e.Environment, name) && (project == "" || strings.EqualFold(e.Project, project)) {
			found = append(found, e)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		var names []string
		for _, e := range v.Environments {
			names = append(names, e.Project+"/"+e.Environment)
		}
		return config.VMEnvironment{}, fmt.Errorf("--environment %q: not in vmResources.environments (configured: %s)", name, strings.Join(names, ", "))
	}
	return config.VMEnvironment{}, fmt.Errorf("--environment %q is in several projects; choose one with --project", name)
}
