package deploy_test

import (
	"bufio"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// shellScripts returns every shell script of the repository: *.sh files and files whose first
// line is a sh or bash shebang. Hidden directories (.git) and testdata are skipped.
func shellScripts(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if strings.HasSuffix(d.Name(), ".sh") || hasShellShebang(path) {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func hasShellShebang(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	if !strings.HasPrefix(line, "#!") {
		return false
	}
	fields := strings.Fields(strings.TrimPrefix(line, "#!"))
	if len(fields) == 0 {
		return false
	}
	interp := filepath.Base(fields[0])
	if interp == "env" && len(fields) > 1 {
		interp = fields[1]
	}
	switch interp {
	case "sh", "bash", "dash", "ksh":
		return true
	}
	return false
}

// TestShellcheck runs shellcheck on every shell script of the repository.
func TestShellcheck(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Fatal("shellcheck is not installed: apt-get install shellcheck (Debian/Ubuntu), brew install shellcheck (macOS); .ci/run installs it")
	}
	root := repoRoot(t)
	scripts := shellScripts(t, root)
	entry := filepath.Join(root, "deploy", "agent", "entrypoint.sh")
	found := false
	for _, s := range scripts {
		found = found || s == entry
	}
	if !found {
		t.Fatalf("the script walk missed %s; found %v", entry, scripts)
	}
	for _, s := range scripts {
		rel, _ := filepath.Rel(root, s)
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			// SC2317 is excluded: shellcheck 0.9 (Debian 12/13) reports a function that only a trap
			// calls as unreachable; later releases understand traps.
			out, err := exec.Command(bin, "--norc", "--severity=style", "--exclude=SC2317", s).CombinedOutput()
			if err != nil {
				t.Errorf("shellcheck %s: %v\n%s", rel, err, out)
			}
		})
	}
}
