package fleetops_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports: fleetops is below cmd and beside the controller (DESIGN.md's import direction).
// It imports no cloud SDK, no provider implementation (it gets providers through small
// interfaces), and neither cmd nor config (cmd turns the config into arguments).
func TestImports(t *testing.T) {
	t.Parallel()
	const mod = "github.com/adofleet/adofleet/"
	out, err := exec.Command("go", "list", "-deps", mod+"internal/controller/fleetops").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list -deps printed nothing")
	}
	banned := []string{
		"github.com/aws/", "github.com/Azure/", "cloud.google.com/", "google.golang.org/api/", "k8s.io/", "sigs.k8s.io/",
		mod + "internal/provider/", mod + "cmd/", mod + "internal/config",
	}
	for _, dep := range deps {
		for _, b := range banned {
			if strings.HasPrefix(dep, b) {
				t.Errorf("fleetops imports %s", dep)
			}
		}
	}
}
