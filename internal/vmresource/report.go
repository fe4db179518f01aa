package vmresource

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Report is what one Reconcile found and did.
type Report struct {
	DryRun bool
	// Removed lists the VM resources (and hidden agents) whose instance no longer exists: removed,
	// or in a dry run, to be removed.
	Removed []Removal
	// Missing lists running instances of configured groups that are not in their Environment.
	Missing []MissingInstance
	// Errors are the parts that failed; the rest of the report stands.
	Errors []string
}

// Removal is one instance's VM resource and hidden agent taken out of its Environment.
type Removal struct {
	Project, Environment string
	InstanceID           string
	ResourceID           int // 0: the resource was already gone
	AgentID              int // 0: no hidden agent was left
	Reason               string
}

// MissingInstance is a running instance of a configured group with no VM resource.
type MissingInstance struct {
	Project, Environment string
	AutoScalingGroup     string
	InstanceID           string
}

func (r *Report) sort() {
	slices.SortFunc(r.Removed, func(a, b Removal) int {
		return cmp.Or(cmp.Compare(a.Project, b.Project), cmp.Compare(a.Environment, b.Environment), cmp.Compare(a.InstanceID, b.InstanceID))
	})
	slices.SortFunc(r.Missing, func(a, b MissingInstance) int {
		return cmp.Or(cmp.Compare(a.Project, b.Project), cmp.Compare(a.Environment, b.Environment), cmp.Compare(a.InstanceID, b.InstanceID))
	})
}

// String renders the report for people, as the dry-run CLI prints it.
func (r Report) String() string {
	var b strings.Builder
	verb := "removed"
	if r.DryRun {
		verb = "would remove"
		b.WriteString("dry run: nothing was changed\n")
	}
	if len(r.Removed) == 0 && len(r.Missing) == 0 && len(r.Errors) == 0 {
		b.WriteString("every configured environment matches its Auto Scaling groups\n")
		return b.String()
	}
	for _, x := range r.Removed {
		fmt.Fprintf(&b, "%s %s/%s: instance %s no longer exists:", verb, x.Project, x.Environment, x.InstanceID)
		if x.ResourceID != 0 {
			fmt.Fprintf(&b, " VM resource %d", x.ResourceID)
		}
		if x.AgentID != 0 {
			fmt.Fprintf(&b, " hidden agent %d", x.AgentID)
		}
		b.WriteString("\n")
	}
	for _, x := range r.Missing {
		fmt.Fprintf(&b, "missing from %s/%s: instance %s of group %s is running but has no VM resource\n",
			x.Project, x.Environment, x.InstanceID, x.AutoScalingGroup)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "error: %s\n", e)
	}
	fmt.Fprintf(&b, "%d %s, %d missing, %d errors\n", len(r.Removed), verb, len(r.Missing), len(r.Errors))
	return b.String()
}
