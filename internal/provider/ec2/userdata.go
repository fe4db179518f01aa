package ec2

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/adofleet/adofleet/internal/provider"
)

// MaxUserData is EC2's limit on user data before base64 encoding.
const MaxUserData = 16 * 1024

// DefaultUserData registers the agent, runs one job (--once unless AZP_ONCE is "false"), removes
// the agent and powers the instance off; with shutdown behaviour "terminate" that ends it. It
// uses the agent in /opt/azp-agent (bake it into the AMI, see deploy/agent) or downloads
// AgentPackageURL. The agent runs as root (AGENT_ALLOW_RUNASROOT): the instance is single-use.
const DefaultUserData = `#!/bin/bash
# adofleet: one Azure Pipelines agent, one job, then power off (the instance terminates).
set -euo pipefail
trap 'shutdown -h now' EXIT
{{range .Env}}export {{.Name}}={{quote .Value}}
{{end -}}
{{if .TokenParameter -}}
AZP_TOKEN="$(aws ssm get-parameter --name {{quote .TokenParameter}} --with-decryption --query Parameter.Value --output text)"
export AZP_TOKEN
{{end -}}
export AGENT_ALLOW_RUNASROOT=1
agent_dir=/opt/azp-agent
if [ ! -x "$agent_dir/config.sh" ]; then
{{- if .AgentPackageURL}}
  mkdir -p "$agent_dir"
  curl -fsSL --retry 5 {{quote .AgentPackageURL}} | tar -xz -C "$agent_dir"
{{- else}}
  echo "adofleet: no agent in $agent_dir and no agentPackageURL configured" >&2
  exit 1
{{- end}}
fi
cd "$agent_dir"
./config.sh --unattended --url "$AZP_URL" --auth pat --token "$AZP_TOKEN" --pool "$AZP_POOL" \
  --agent "$AZP_AGENT_NAME" --replace --acceptTeeEula
cleanup() {
  ./config.sh remove --unattended --auth pat --token "$AZP_TOKEN" || true
  shutdown -h now
}
trap cleanup EXIT
if [ "${AZP_ONCE:-true}" = "true" ]; then
  ./run.sh --once
else
  ./run.sh
fi
`

// UserDataData is what a user data template sees.
type UserDataData struct {
	AgentName string
	// Env is the agent's environment, sorted by name: the request's Env, AZP_AGENT_NAME, and each
	// capability of ADOFLEET_CAPABILITIES whose name is a valid variable name (the agent reports
	// environment variables as capabilities). AZP_TOKEN is absent when TokenParameter is set.
	Env             []EnvVar
	TokenParameter  string
	AgentPackageURL string
}

// EnvVar is one environment variable; render values with {{quote .Value}}.
type EnvVar struct{ Name, Value string }

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func parseUserData(text string) (*template.Template, error) {
	return template.New("userdata").Option("missingkey=error").Funcs(template.FuncMap{"quote": shellQuote}).Parse(text)
}

// shellQuote single-quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// userData renders the base64 user data of one agent. Errors never quote the environment, which
// holds the registration token.
func (p *Provider) userData(req provider.LaunchRequest, agent string) (string, error) {
	vars := map[string]string{}
	if caps := req.Env["ADOFLEET_CAPABILITIES"]; caps != "" {
		var m map[string]string
		if err := json.Unmarshal([]byte(caps), &m); err == nil {
			for k, v := range m {
				if envName.MatchString(k) {
					vars[k] = v
				}
			}
		}
	}
	for k, v := range req.Env {
		if !envName.MatchString(k) {
			return "", fmt.Errorf("%w: environment variable name %q is not valid in a shell", provider.ErrInvalidRequest, k)
		}
		vars[k] = v
	}
	vars["AZP_AGENT_NAME"] = agent
	if p.opts.TokenParameter != "" {
		delete(vars, "AZP_TOKEN")
	}
	data := UserDataData{AgentName: agent, TokenParameter: p.opts.TokenParameter, AgentPackageURL: p.opts.AgentPackageURL}
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		data.Env = append(data.Env, EnvVar{k, vars[k]})
	}
	var buf bytes.Buffer
	if err := p.udTpl.Execute(&buf, data); err != nil {
		return "", fmt.Errorf("%w: render user data: %v", provider.ErrInvalidRequest, err)
	}
	if buf.Len() > MaxUserData {
		return "", fmt.Errorf("%w: user data is %d bytes, EC2 allows %d", provider.ErrInvalidRequest, buf.Len(), MaxUserData)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}
