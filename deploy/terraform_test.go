package deploy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Terraform cannot be installed here (not in Debian; no reachable registry has it), so the module
// is checked with HashiCorp's own HCL parser: it parses, every reference resolves, every variable
// is documented and typed, only known AWS resource types are used, and the IAM policies have no
// wildcards but the ones AWS forces. `terraform validate` runs where Terraform is available (see
// deploy/terraform/aws/README.md).

// allowedResources are the AWS resource types the module may use.
var allowedResources = []string{
	"aws_apigatewayv2_api", "aws_apigatewayv2_integration", "aws_apigatewayv2_route", "aws_apigatewayv2_stage",
	"aws_autoscaling_lifecycle_hook", "aws_cloudwatch_event_rule", "aws_cloudwatch_event_target",
	"aws_cloudwatch_log_group", "aws_dynamodb_table", "aws_ecs_cluster", "aws_ecs_cluster_capacity_providers",
	"aws_ecs_service", "aws_ecs_task_definition", "aws_iam_policy", "aws_iam_role", "aws_iam_role_policy",
	"aws_iam_role_policy_attachment", "aws_lambda_event_source_mapping", "aws_lambda_function",
	"aws_lambda_permission", "aws_scheduler_schedule", "aws_sqs_queue", "aws_sqs_queue_policy",
}

// allowedData are the data sources the module may read. aws_ssm_parameter is not one: it would
// store the decrypted PAT in the state.
var allowedData = []string{"aws_caller_identity", "aws_iam_policy_document", "aws_partition", "aws_region"}

// noResourceLevel is the comment that justifies a "*" resource.
const noResourceLevel = "does not support resource-level permissions"

type tfModule struct {
	files  map[string]*hcl.File
	bodies map[string]*hclsyntax.Body
}

func loadModule(t *testing.T, dir string) *tfModule {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no .tf files in %s (%v)", dir, err)
	}
	p := hclparse.NewParser()
	m := &tfModule{files: map[string]*hcl.File{}, bodies: map[string]*hclsyntax.Body{}}
	for _, path := range paths {
		f, diags := p.ParseHCLFile(path)
		if diags.HasErrors() {
			t.Fatalf("parse: %s", diags.Error())
		}
		m.files[path] = f
		m.bodies[path] = f.Body.(*hclsyntax.Body)
	}
	return m
}

// blocks returns the top-level blocks of type typ in every file.
func (m *tfModule) blocks(typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, path := range m.sortedPaths() {
		for _, b := range m.bodies[path].Blocks {
			if b.Type == typ {
				out = append(out, b)
			}
		}
	}
	return out
}

func (m *tfModule) sortedPaths() []string {
	var out []string
	for p := range m.files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// source returns the text of rng.
func (m *tfModule) source(rng hcl.Range) string {
	f := m.files[rng.Filename]
	return string(f.Bytes[rng.Start.Byte:rng.End.Byte])
}

// walk calls fn for every attribute of body and of its nested blocks.
func walk(body *hclsyntax.Body, fn func(*hclsyntax.Attribute)) {
	for _, a := range body.Attributes {
		fn(a)
	}
	for _, b := range body.Blocks {
		walk(b.Body, fn)
	}
}

func TestTerraformModule(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(repoRoot(t), "deploy", "terraform", "aws")
	m := loadModule(t, dir)

	declared := map[string]map[string]bool{"var": {}, "local": {}, "resource": {}, "data": {}}
	for _, b := range m.blocks("variable") {
		name := b.Labels[0]
		declared["var"][name] = true
		for _, attr := range []string{"description", "type"} {
			if _, ok := b.Body.Attributes[attr]; !ok {
				t.Errorf("%s: variable %q has no %s", b.DefRange(), name, attr)
			}
		}
	}
	for _, b := range m.blocks("locals") {
		for name := range b.Body.Attributes {
			declared["local"][name] = true
		}
	}
	for _, b := range m.blocks("resource") {
		if !slices.Contains(allowedResources, b.Labels[0]) {
			t.Errorf("%s: resource type %s is not in the allow-list", b.DefRange(), b.Labels[0])
		}
		declared["resource"][b.Labels[0]+"."+b.Labels[1]] = true
	}
	for _, b := range m.blocks("data") {
		if !slices.Contains(allowedData, b.Labels[0]) {
			t.Errorf("%s: data source %s is not in the allow-list", b.DefRange(), b.Labels[0])
		}
		declared["data"][b.Labels[0]+"."+b.Labels[1]] = true
	}
	for _, b := range m.blocks("output") {
		if _, ok := b.Body.Attributes["description"]; !ok {
			t.Errorf("%s: output %q has no description", b.DefRange(), b.Labels[0])
		}
	}

	// Every reference resolves.
	used := map[string]bool{}
	for _, path := range m.sortedPaths() {
		walk(m.bodies[path], func(a *hclsyntax.Attribute) {
			for _, tr := range a.Expr.Variables() {
				ref, err := reference(tr)
				if err != "" {
					continue
				}
				kind, name := ref[0], ref[1]
				if declared[kind] == nil {
					continue // each., count., statement., path.: block-scoped
				}
				used[kind+"."+name] = true
				if !declared[kind][name] {
					t.Errorf("%s: %s.%s is not declared", a.SrcRange, kind, name)
				}
			}
		})
	}
	for name := range declared["var"] {
		if !used["var."+name] {
			t.Errorf("variable %q is declared but never used", name)
		}
	}

	// Log groups keep logs for a bounded time.
	for _, b := range m.blocks("resource") {
		if b.Labels[0] == "aws_cloudwatch_log_group" {
			if _, ok := b.Body.Attributes["retention_in_days"]; !ok {
				t.Errorf("%s: log group %s has no retention_in_days", b.DefRange(), b.Labels[1])
			}
		}
	}
	checkIAM(t, m)
}

// reference turns var.x, local.x, aws_t.name and data.aws_t.name into (kind, name).
func reference(tr hcl.Traversal) ([2]string, string) {
	root := tr.RootName()
	attr := func(i int) string {
		if i < len(tr) {
			if a, ok := tr[i].(hcl.TraverseAttr); ok {
				return a.Name
			}
		}
		return ""
	}
	switch {
	case root == "var" || root == "local":
		return [2]string{root, attr(1)}, ""
	case root == "data":
		return [2]string{"data", attr(1) + "." + attr(2)}, ""
	case strings.HasPrefix(root, "aws_"):
		return [2]string{"resource", root + "." + attr(1)}, ""
	}
	return [2]string{}, "not a module reference"
}

// checkIAM checks every statement of every aws_iam_policy_document, dynamic ones included.
func checkIAM(t testing.TB, m *tfModule) {
	t.Helper()
	n := 0
	for _, b := range m.blocks("data") {
		if b.Labels[0] != "aws_iam_policy_document" {
			continue
		}
		for _, st := range b.Body.Blocks {
			body := st.Body
			switch {
			case st.Type == "statement":
			case st.Type == "dynamic" && len(st.Labels) == 1 && st.Labels[0] == "statement":
				for _, c := range st.Body.Blocks {
					if c.Type == "content" {
						body = c.Body
					}
				}
			default:
				continue
			}
			n++
			where := fmt.Sprintf("%s (policy %s)", st.DefRange(), b.Labels[1])
			src := m.source(st.Range())
			if !strings.Contains(src, "#") {
				t.Errorf("%s: statement has no comment saying why it is needed", where)
			}
			actions := literalStrings(t, body, "actions", where)
			if len(actions) == 0 {
				t.Errorf("%s: statement has no literal actions", where)
			}
			for _, a := range actions {
				if a == "*" || strings.HasSuffix(a, ":*") || !strings.Contains(a, ":") {
					t.Errorf("%s: action %q is a wildcard or malformed", where, a)
				}
			}
			if _, ok := body.Attributes["not_actions"]; ok {
				t.Errorf("%s: not_actions grants everything else", where)
			}
			for _, r := range literalStrings(t, body, "resources", where) {
				if r == "*" && !strings.Contains(src, noResourceLevel) {
					t.Errorf("%s: resource \"*\" without a comment that AWS %s for %v", where, noResourceLevel, actions)
				}
			}
		}
	}
	if n < 10 {
		t.Errorf("found %d IAM statements; the walk is missing some", n)
	}
	// Inline, managed and queue policies come from the checked documents, never from a
	// hand-written JSON string.
	for _, b := range m.blocks("resource") {
		if !slices.Contains([]string{"aws_iam_role_policy", "aws_iam_policy", "aws_sqs_queue_policy"}, b.Labels[0]) {
			continue
		}
		src := m.source(b.Body.Attributes["policy"].Expr.Range())
		if !strings.HasPrefix(src, "data.aws_iam_policy_document.") {
			t.Errorf("%s: policy = %s, want a data.aws_iam_policy_document", b.DefRange(), src)
		}
	}
}

// literalStrings returns the literal string elements of a list attribute; non-literal elements
// (references) are skipped, as they cannot be "*".
func literalStrings(t testing.TB, body *hclsyntax.Body, name, where string) []string {
	t.Helper()
	a, ok := body.Attributes[name]
	if !ok {
		return nil
	}
	tup, ok := a.Expr.(*hclsyntax.TupleConsExpr)
	if !ok {
		return nil // a reference to a list variable, e.g. var.ecr_repository_arns
	}
	var out []string
	for _, e := range tup.Exprs {
		if len(e.Variables()) > 0 {
			continue
		}
		v, diags := e.Value(nil)
		if diags.HasErrors() || !v.IsKnown() || v.Type() != cty.String {
			t.Errorf("%s: %s element %s is not a literal", where, name, e.Range())
			continue
		}
		out = append(out, v.AsString())
	}
	return out
}

// TestTerraformCheckCatchesWildcards feeds the IAM check a policy it must reject, so a check that
// silently finds nothing cannot pass.
func TestTerraformCheckCatchesWildcards(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := `data "aws_iam_policy_document" "bad" {
  statement {
    actions   = ["*"]
    resources = ["*"]
  }
  dynamic "statement" {
    for_each = [1]
    content {
      # why: none
      actions   = ["s3:GetObject"]
      resources = ["*"]
    }
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "bad.tf"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{TB: t}
	checkIAM(rec, loadModule(t, dir))
	want := []string{"has no comment", `action "*"`, `resource "*" without a comment`, `resource "*" without a comment`, "found 2 IAM statements"}
	if len(rec.errs) != len(want) {
		t.Fatalf("errors = %q, want %d matching %q", rec.errs, len(want), want)
	}
	for i, w := range want {
		if !strings.Contains(rec.errs[i], w) {
			t.Errorf("error %d = %q, want it to contain %q", i, rec.errs[i], w)
		}
	}
}

// recorder collects Errorf calls instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Helper() {}
