package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateAcceptsTheAWSExamples checks that validate knows the ssm: and secretsmanager:
// schemes (checking them makes no AWS call) and the ecs and ec2 sections.
func TestValidateAcceptsTheAWSExamples(t *testing.T) {
	t.Parallel()
	for _, f := range []string{"../../examples/aws-ecs.yaml", "../../examples/aws-ec2.yaml"} {
		out, stderr, err := runCLI(context.Background(), "validate", "-c", f)
		if err != nil {
			t.Errorf("validate %s: %v\n%s", f, err, stderr)
			continue
		}
		if !strings.Contains(out, "ok") {
			t.Errorf("validate %s: output %q, want ok", f, out)
		}
	}
}

func TestValidateReportsECSErrorsByLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bad.yaml")
	bad := `organization:
  url: https://dev.azure.com/contoso
  pat: ssm:/adofleet/ado-pat
providers:
  ecs:
    cluster: agents
    taskDefinition: ado-agent
    launchType: FARGATE_SPOT
    subnets: [subnet-1]
    secrets:
      - name: AZP_TOKEN
    endpoint: not a url
pools:
  - name: fargate
    provider: ecs
    max: 2
`
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runCLI(context.Background(), "validate", "-c", path)
	var ec exitCodeError
	if !asExit(err, &ec) || ec.code != 2 {
		t.Fatalf("err = %v, want exit code 2", err)
	}
	for _, want := range []string{
		`bad.yaml:8: providers.ecs.launchType: "FARGATE_SPOT" is not one of FARGATE, EC2, EXTERNAL`,
		"bad.yaml:11: providers.ecs.secrets[0].valueFrom: required",
		"bad.yaml:12: providers.ecs.endpoint: must be an absolute http(s) URL",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "organization.pat") {
		t.Errorf("the ssm: reference was rejected:\n%s", stderr)
	}
}

// TestAWSGuideConfigIsValid validates the config shown in docs/aws.md, so the guide cannot drift
// from the config's field names.
func TestAWSGuideConfigIsValid(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/aws.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "## 5. The adofleet config for the ECS provider")
	_, block, ok2 := strings.Cut(section, "```yaml\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/aws.md has no yaml block under section 5")
	}
	path := filepath.Join(t.TempDir(), "guide.yaml")
	if err := os.WriteFile(path, []byte(block), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runCLI(context.Background(), "validate", "-c", path); err != nil {
		t.Errorf("validate the guide's config: %v\n%s", err, stderr)
	}
}
