package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Docker cannot run here (no engine), so the agent image is checked by reading its Dockerfile:
// the build is left to CI machines with Docker (docs/aws.md shows the command).

// instruction is one Dockerfile instruction with its continuation lines joined.
type instruction struct {
	line int
	cmd  string // upper case: FROM, RUN, USER...
	args string
}

func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []instruction
	var cur strings.Builder
	start := 0
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(raw)
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() > 0 && strings.HasPrefix(line, "#") {
			continue // comment inside a continued instruction
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if body, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
		cur.Reset()
	}
	if cur.Len() > 0 {
		t.Fatalf("%s ends inside a continued instruction", path)
	}
	return out
}

var secretName = regexp.MustCompile(`(?i)(token|pat|secret|password|passwd|credential|key)`)

func TestAgentDockerfile(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(repoRoot(t), "deploy", "agent")
	ins := parseDockerfile(t, filepath.Join(dir, "Dockerfile"))
	var user, entrypoint, from string
	copied := map[string]string{} // destination -> source
	var runs []string
	for _, in := range ins {
		switch in.cmd {
		case "FROM":
			from = in.args
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		case "RUN":
			runs = append(runs, in.args)
		case "COPY":
			f := strings.Fields(in.args)
			var srcDst []string
			for _, x := range f {
				if !strings.HasPrefix(x, "--") {
					srcDst = append(srcDst, x)
				}
			}
			if len(srcDst) == 2 {
				copied[srcDst[1]] = srcDst[0]
			}
		case "ENV", "ARG":
			// No secret may be baked into the image or have a default value.
			for _, kv := range strings.Fields(in.args) {
				name, value, hasValue := strings.Cut(kv, "=")
				if secretName.MatchString(name) && hasValue && strings.Trim(value, `"'`) != "" {
					t.Errorf("line %d: %s %s has a default value; secrets must come at run time", in.line, in.cmd, name)
				}
			}
			if in.cmd == "ENV" && strings.Contains(in.args, "AZP_TOKEN") {
				t.Errorf("line %d: ENV sets AZP_TOKEN; the token must come at run time", in.line)
			}
		}
	}
	if !regexp.MustCompile(`^(docker\.io/(library/)?)?(debian|ubuntu):`).MatchString(from) {
		t.Errorf("FROM %q, want a Debian or Ubuntu base with a tag", from)
	}
	if user == "" || user == "root" || user == "0" || strings.HasPrefix(user, "0:") || strings.HasPrefix(user, "root:") {
		t.Errorf("final USER = %q, want a non-root user", user)
	}
	if !strings.HasPrefix(entrypoint, `["`) {
		t.Fatalf("ENTRYPOINT %s: want the exec form so the script is PID 1 and gets SIGTERM", entrypoint)
	}
	target := strings.Trim(strings.TrimSuffix(strings.TrimPrefix(entrypoint, "["), "]"), `"`)
	if src := copied[target]; src != "entrypoint.sh" {
		t.Errorf("ENTRYPOINT %s is not entrypoint.sh copied into the image (COPY sources: %v)", target, copied)
	}
	if _, err := os.Stat(filepath.Join(dir, "entrypoint.sh")); err != nil {
		t.Error(err)
	}
	all := strings.Join(runs, "\n")
	for _, want := range []string{"${AGENT_URL}", "awscli.amazonaws.com", "git", "jq", "useradd"} {
		if !strings.Contains(all, want) {
			t.Errorf("no RUN mentions %q", want)
		}
	}
	var hasAgentURLArg bool
	for _, in := range ins {
		if in.cmd == "ARG" && strings.TrimSpace(in.args) == "AGENT_URL" {
			hasAgentURLArg = true
		}
	}
	if !hasAgentURLArg {
		t.Error("want ARG AGENT_URL with no default (the agent is downloaded at build time)")
	}
}
