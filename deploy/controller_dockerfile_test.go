package deploy_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The controller image, deploy/Dockerfile, is checked by reading it (no Docker engine here): a
// multi-stage build of a static binary, a pinned runtime base, a numeric non-root user, no secret
// baked in, and the binary as the exec-form entry point.

var (
	// digestRef is image@sha256:<64 hex>, optionally with a tag before the digest.
	digestRef = regexp.MustCompile(`^[^\s@]+@sha256:[0-9a-f]{64}$`)
	// versionTag is image:<x.y.z>[-variant]: a release, not a moving tag such as latest or 1.
	versionTag = regexp.MustCompile(`^[^\s@]+:\d+\.\d+\.\d+(-[a-z0-9.]+)?$`)
	numericID  = regexp.MustCompile(`^[0-9]+(:[0-9]+)?$`)
	golangTag  = regexp.MustCompile(`^(docker\.io/(library/)?)?golang:(\d+)\.(\d+)\.\d+`)
)

// stage is one FROM ... [AS name] of a multi-stage Dockerfile.
type stage struct {
	image, name string
	ins         []instruction
}

func splitStages(t *testing.T, ins []instruction) []stage {
	t.Helper()
	var out []stage
	for _, in := range ins {
		if in.cmd == "FROM" {
			var f []string
			for _, w := range strings.Fields(in.args) {
				if !strings.HasPrefix(w, "--") { // --platform=...
					f = append(f, w)
				}
			}
			s := stage{image: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			out = append(out, s)
			continue
		}
		if len(out) == 0 {
			if in.cmd != "ARG" {
				t.Fatalf("line %d: %s before the first FROM", in.line, in.cmd)
			}
			continue
		}
		out[len(out)-1].ins = append(out[len(out)-1].ins, in)
	}
	return out
}

// goDirective returns the major and minor of go.mod's go line.
func goDirective(t *testing.T) (int, int) {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go "); ok {
			parts := strings.Split(strings.TrimSpace(v), ".")
			major, _ := strconv.Atoi(parts[0])
			minor, _ := strconv.Atoi(parts[1])
			return major, minor
		}
	}
	t.Fatal("go.mod has no go directive")
	return 0, 0
}

func TestControllerDockerfile(t *testing.T) {
	t.Parallel()
	ins := parseDockerfile(t, filepath.Join(repoRoot(t), "deploy", "Dockerfile"))
	stages := splitStages(t, ins)
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a runtime stage", len(stages))
	}
	for _, s := range stages {
		if !digestRef.MatchString(s.image) && !versionTag.MatchString(s.image) {
			t.Errorf("FROM %s: want a base pinned by digest or by an x.y.z release tag", s.image)
		}
	}

	build := stages[0]
	m := golangTag.FindStringSubmatch(build.image)
	if m == nil {
		t.Fatalf("build stage FROM %s, want a golang:x.y.z image", build.image)
	}
	wantMajor, wantMinor := goDirective(t)
	gotMajor, _ := strconv.Atoi(m[3])
	gotMinor, _ := strconv.Atoi(m[4])
	if gotMajor != wantMajor || gotMinor < wantMinor {
		t.Errorf("build stage Go %d.%d, want at least go.mod's %d.%d", gotMajor, gotMinor, wantMajor, wantMinor)
	}
	var buildCmd string
	for _, in := range build.ins {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			buildCmd = in.args
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/adofleet", "main.version="} {
		if !strings.Contains(buildCmd, want) {
			t.Errorf("go build command %q lacks %q", buildCmd, want)
		}
	}

	runtime := stages[len(stages)-1]
	if !digestRef.MatchString(runtime.image) {
		t.Errorf("runtime FROM %s: want it pinned by digest (it is what runs in production)", runtime.image)
	}
	var user, entrypoint string
	var binaryCopied bool
	for _, in := range runtime.ins {
		switch in.cmd {
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		case "COPY":
			binaryCopied = binaryCopied || strings.Contains(in.args, "--from="+build.name) &&
				strings.HasSuffix(in.args, " /usr/local/bin/adofleet")
		case "RUN":
			t.Errorf("line %d: RUN in the runtime stage; the runtime image has no shell", in.line)
		}
	}
	if !numericID.MatchString(user) {
		t.Errorf("final USER %q, want a numeric uid[:gid] so runAsNonRoot can check it", user)
	} else if uid, _, _ := strings.Cut(user, ":"); uid == "0" {
		t.Errorf("final USER %q is root", user)
	}
	if entrypoint != `["/usr/local/bin/adofleet"]` {
		t.Errorf("ENTRYPOINT %s, want the exec form of /usr/local/bin/adofleet (PID 1 gets SIGTERM)", entrypoint)
	}
	if !binaryCopied {
		t.Errorf("no COPY --from=%s of the binary to /usr/local/bin/adofleet in the runtime stage", build.name)
	}

	for _, in := range ins {
		if in.cmd != "ENV" && in.cmd != "ARG" {
			continue
		}
		for _, kv := range strings.Fields(in.args) {
			name, value, hasValue := strings.Cut(kv, "=")
			if secretName.MatchString(name) && hasValue && strings.Trim(value, `"'`) != "" {
				t.Errorf("line %d: %s %s has a value; secrets come at run time", in.line, in.cmd, name)
			}
		}
	}
}

// TestControllerDockerignore checks the context filter keeps what the build needs.
func TestControllerDockerignore(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "Dockerfile.dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, want := range []string{"*", "!go.mod", "!go.sum", "!cmd/", "!internal/"} {
		if !lines[want] {
			t.Errorf("Dockerfile.dockerignore lacks %q", want)
		}
	}
}
