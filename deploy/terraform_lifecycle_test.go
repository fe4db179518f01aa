package deploy_test

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/adofleet/adofleet/internal/config"
)

// TestTerraformLifecycle checks lifecycle.tf: the hook, the rule, the queue and its DLQ, the
// queue policy, the event source mapping and the controller's permissions, and that the
// vmResources section the module renders uses the config's own keys.
func TestTerraformLifecycle(t *testing.T) {
	t.Parallel()
	m := loadModule(t, filepath.Join(repoRoot(t), "deploy", "terraform", "aws"))
	res := func(typ, name string) *hclsyntax.Body {
		t.Helper()
		for _, b := range m.blocks("resource") {
			if b.Labels[0] == typ && b.Labels[1] == name {
				return b.Body
			}
		}
		t.Fatalf("no resource %s.%s", typ, name)
		return nil
	}
	// attr is an attribute's source text; want maps an attribute to its expected text.
	attr := func(b *hclsyntax.Body, name string) string {
		a, ok := b.Attributes[name]
		if !ok {
			return ""
		}
		return m.source(a.Expr.Range())
	}
	expect := func(what string, b *hclsyntax.Body, want map[string]string) {
		t.Helper()
		for name, w := range want {
			if got := attr(b, name); got != w {
				t.Errorf("%s.%s = %s, want %s", what, name, got, w)
			}
		}
	}

	expect("hook", res("aws_autoscaling_lifecycle_hook", "deregister"), map[string]string{
		"for_each":             "toset(local.vm_groups)",
		"lifecycle_transition": `"autoscaling:EC2_INSTANCE_TERMINATING"`,
		"default_result":       `"CONTINUE"`,
		"heartbeat_timeout":    "var.lifecycle_heartbeat_timeout",
	})

	pattern := attr(res("aws_cloudwatch_event_rule", "lifecycle"), "event_pattern")
	for _, want := range []string{`["aws.autoscaling"]`, `"EC2 Instance-terminate Lifecycle Action"`,
		`"EC2 Instance Launch Successful"`, `"EC2 Instance Terminate Successful"`, "AutoScalingGroupName = local.vm_groups"} {
		if !strings.Contains(pattern, want) {
			t.Errorf("event rule pattern lacks %s:\n%s", want, pattern)
		}
	}
	expect("event target", res("aws_cloudwatch_event_target", "lifecycle"), map[string]string{
		"rule": "aws_cloudwatch_event_rule.lifecycle[0].name",
		"arn":  "aws_sqs_queue.lifecycle[0].arn",
	})

	redrive := attr(res("aws_sqs_queue", "lifecycle"), "redrive_policy")
	for _, want := range []string{"deadLetterTargetArn = aws_sqs_queue.lifecycle_dlq[0].arn", "maxReceiveCount     = var.lifecycle_max_receive_count"} {
		if !strings.Contains(redrive, want) {
			t.Errorf("queue redrive policy lacks %q:\n%s", want, redrive)
		}
	}
	expect("queue policy", res("aws_sqs_queue_policy", "lifecycle"), map[string]string{
		"queue_url": "aws_sqs_queue.lifecycle[0].id",
		"policy":    "data.aws_iam_policy_document.lifecycle_queue[0].json",
	})
	expect("event source mapping", res("aws_lambda_event_source_mapping", "lifecycle"), map[string]string{
		"event_source_arn":        "aws_sqs_queue.lifecycle[0].arn",
		"function_name":           `aws_lambda_function.controller["sqs"].arn`,
		"function_response_types": `["ReportBatchItemFailures"]`,
	})

	// Who may do what: EventBridge sends to the queue only for this rule; the controller completes
	// lifecycle actions on the configured groups only.
	queueDoc := m.source(dataBlock(t, m, "aws_iam_policy_document", "lifecycle_queue").Range())
	for _, want := range []string{`"events.amazonaws.com"`, `"aws:SourceArn"`, "aws_cloudwatch_event_rule.lifecycle[0].arn", `["sqs:SendMessage"]`} {
		if !strings.Contains(queueDoc, want) {
			t.Errorf("queue policy document lacks %s", want)
		}
	}
	statements := map[string]*hclsyntax.Body{}
	for _, st := range dataBlock(t, m, "aws_iam_policy_document", "lifecycle_controller").Body.Blocks {
		if st.Type == "statement" {
			statements[strings.Trim(attr(st.Body, "sid"), `"`)] = st.Body
		}
	}
	for sid, want := range map[string]map[string]string{
		"ConsumeLifecycleEvents":  {"resources": "[aws_sqs_queue.lifecycle[0].arn]"},
		"DeadLetterPoison":        {"actions": `["sqs:SendMessage"]`, "resources": "[aws_sqs_queue.lifecycle_dlq[0].arn]"},
		"CompleteLifecycleAction": {"actions": `["autoscaling:CompleteLifecycleAction"]`, "resources": "local.vm_group_arns"},
	} {
		b, ok := statements[sid]
		if !ok {
			t.Errorf("controller lifecycle policy has no statement %s", sid)
			continue
		}
		expect("statement "+sid, b, want)
	}

	// The rendered config's vmResources keys are the config's YAML keys.
	var vmConfig hclsyntax.Expression
	for _, b := range m.blocks("locals") {
		if a, ok := b.Body.Attributes["vm_config"]; ok {
			vmConfig = a.Expr
		}
	}
	if vmConfig == nil {
		t.Fatal("no local.vm_config")
	}
	keys := objectKeys(t, vmConfig, "")
	known := yamlKeys(reflect.TypeFor[config.Config](), "")
	if len(keys) < 8 {
		t.Fatalf("found only %d keys in local.vm_config: %v", len(keys), keys)
	}
	for _, k := range keys {
		if !known[k] {
			t.Errorf("local.vm_config sets %s, which is no config field", k)
		}
	}
	if src := m.source(findLocal(t, m, "rendered_config").Range()); !strings.Contains(src, "local.vm_config))") {
		t.Error("main.tf's rendered_config does not merge local.vm_config")
	}
}

func dataBlock(t *testing.T, m *tfModule, typ, name string) *hclsyntax.Block {
	t.Helper()
	for _, b := range m.blocks("data") {
		if b.Labels[0] == typ && b.Labels[1] == name {
			return b
		}
	}
	t.Fatalf("no data %s.%s", typ, name)
	return nil
}

func findLocal(t *testing.T, m *tfModule, name string) hclsyntax.Expression {
	t.Helper()
	for _, b := range m.blocks("locals") {
		if a, ok := b.Body.Attributes[name]; ok {
			return a.Expr
		}
	}
	t.Fatalf("no local.%s", name)
	return nil
}

// objectKeys lists the dotted key paths an expression builds (lists as []), looking through
// conditionals and for expressions.
func objectKeys(t *testing.T, e hclsyntax.Expression, prefix string) []string {
	switch e := e.(type) {
	case *hclsyntax.ConditionalExpr:
		return append(objectKeys(t, e.TrueResult, prefix), objectKeys(t, e.FalseResult, prefix)...)
	case *hclsyntax.ForExpr:
		return objectKeys(t, e.ValExpr, prefix+"[]")
	case *hclsyntax.ObjectConsExpr:
		var out []string
		for _, it := range e.Items {
			name := hcl.ExprAsKeyword(it.KeyExpr)
			if name == "" {
				v, diags := it.KeyExpr.Value(nil)
				if diags.HasErrors() {
					t.Fatalf("%s: key is not a literal", it.KeyExpr.Range())
				}
				name = v.AsString()
			}
			path := strings.TrimPrefix(prefix+"."+name, ".")
			out = append(out, path)
			out = append(out, objectKeys(t, it.ValueExpr, path)...)
		}
		return out
	}
	return nil
}

// yamlKeys lists the dotted YAML key paths of a config type (lists as []).
func yamlKeys(rt reflect.Type, prefix string) map[string]bool {
	out := map[string]bool{}
	for rt.Kind() == reflect.Pointer {
		rt = rt.Elem()
	}
	if rt.Kind() == reflect.Slice {
		prefix += "[]"
		rt = rt.Elem()
	}
	if rt.Kind() != reflect.Struct {
		return out
	}
	for i := range rt.NumField() {
		f := rt.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		path := strings.TrimPrefix(prefix+"."+name, ".")
		out[path] = true
		for k := range yamlKeys(f.Type, path) {
			out[k] = true
		}
	}
	return out
}
