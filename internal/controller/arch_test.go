package controller_test

import (
	"os/exec"
	"strings"
	"testing"
)

// cloudSDKs are import path prefixes of cloud SDKs. The decision and the loop stay cloud-neutral:
// only provider packages may import them.
var cloudSDKs = []string{
	"github.com/aws/",
	"github.com/Azure/",
	"cloud.google.com/",
	"google.golang.org/api/",
	"k8s.io/",
	"sigs.k8s.io/",
}

// TestNoCloudSDKImports lists the transitive imports of internal/scaler and internal/controller
// with `go list -deps` and fails on any cloud SDK, and on the controller importing a provider
// implementation (it gets providers through the interface; only cmd wires implementations).
func TestNoCloudSDKImports(t *testing.T) {
	t.Parallel()
	const mod = "github.com/adofleet/adofleet/internal/"
	for _, pkg := range []string{mod + "scaler", mod + "controller"} {
		t.Run(pkg[len(mod):], func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command("go", "list", "-deps", pkg).Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v", pkg, err)
			}
			deps := strings.Fields(string(out))
			if len(deps) == 0 {
				t.Fatalf("go list -deps %s printed nothing", pkg)
			}
			for _, dep := range deps {
				for _, sdk := range cloudSDKs {
					if strings.HasPrefix(dep, sdk) {
						t.Errorf("%s imports cloud SDK package %s", pkg, dep)
					}
				}
				if strings.HasPrefix(dep, mod+"provider/") {
					t.Errorf("%s imports provider implementation %s", pkg, dep)
				}
			}
		})
	}
}
