# adofleet build and test targets. `make test` is the README's test command and what .ci/run runs.
GO ?= go
PKGS := ./...

.PHONY: all build test deps vet fmt bench bench-scale demo soak clean fuzz vulncheck

all: build

build:
	$(GO) build -o bin/adofleet ./cmd/adofleet

# deps installs what the tests need that Go modules do not bring, from Debian's packages:
# chromium (the dashboard's real-browser test), python3-botocore (the AWS API models the AWS
# fakes are checked against) and shellcheck (the agent scripts); and helm, built from the Go
# module proxy. Skipped when already there.
# postgresql: the server binaries the postgres store's tests start a throwaway cluster from.
DEB_DEPS := chromium python3-botocore shellcheck postgresql
# Go-built tools go to TOOLS_BIN (deploy/helm_test.go looks there first, then on PATH). Helm's own
# release build sets its version and the Kubernetes version it templates for (client-go's minor
# plus one major: v0.34 is Kubernetes 1.34) with these flags; go install alone would say v1.20.
TOOLS_BIN := $(CURDIR)/bin/tools
HELM_VERSION := v3.19.5
HELM_K8S_MINOR := 34
HELM_LDFLAGS := -s -w -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) \
	-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$(HELM_K8S_MINOR) \
	-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$(HELM_K8S_MINOR)
deps:
	@missing=""; for p in $(DEB_DEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@# The DynamoDB emulator (dynalite, pinned in tools/emulators) for the dynamodb store's tests.
	@command -v npm >/dev/null 2>&1 || { echo "installing: nodejs npm"; apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	@[ -d tools/emulators/node_modules/dynalite ] || npm ci --prefix tools/emulators --ignore-scripts --no-audit --no-fund
	@# Helm (deploy/helm_test.go lints and renders the chart), built from the Go module proxy.
	@[ -x $(TOOLS_BIN)/helm ] && $(TOOLS_BIN)/helm version --template '{{.Version}}' | grep -qx '$(HELM_VERSION)' || \
		{ echo "installing: helm $(HELM_VERSION) into $(TOOLS_BIN)"; \
		GOBIN=$(TOOLS_BIN) $(GO) install -ldflags '$(HELM_LDFLAGS)' helm.sh/helm/v3/cmd/helm@$(HELM_VERSION); }
	$(GO) mod download

test: deps
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 20m $(PKGS)
	$(GO) test -count=1 -tags crashpoints ./internal/crashpoint

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -l -w .

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# bench-scale: the controller, checks-webhook and store figures of docs/BENCHMARKS.md (issue 7),
# six samples each for benchstat. About 15 minutes; the fleet setup alone is a minute per run.
bench-scale:
	$(GO) test ./internal/controller -run '^$$' -bench 'ReconcileFleet|ReconcileOnce' -benchmem -count 6 -timeout 60m
	$(GO) test ./internal/checks -run '^$$' -bench CheckWebhook -benchmem -benchtime 5000x -count 6
	$(GO) test ./internal/store/sqlite ./internal/store/postgres ./internal/store/dynamodb -run '^$$' -bench VMLifecycle -benchmem -count 6

demo:
	$(GO) run ./cmd/adofleet demo

# soak runs the demo with faults for SOAK_DURATION (default 30m), samples /metrics every 30 s and
# fails if goroutines, heap, RSS or open fds grow or jobs stop finishing (issue 8; docs/BENCHMARKS.md).
# Samples and summaries go to SOAK_OUT; SOAK_ARGS (after --) replace the demo's default workload.
SOAK_DURATION ?= 30m
SOAK_OUT ?= /tmp/adofleet-soak
SOAK_ARGS ?=
soak:
	$(GO) build -o $(SOAK_OUT)/adofleet ./cmd/adofleet
	$(GO) run ./tools/soak -bin $(SOAK_OUT)/adofleet -duration $(SOAK_DURATION) -out $(SOAK_OUT) $(if $(SOAK_ARGS),-- $(SOAK_ARGS))

# fuzz runs every fuzz target for FUZZTIME each (default 30s), one after another, and stops at
# the first failure. A failing input is saved under the package's testdata/fuzz/<target>/:
# commit it with the fix, as a regression seed that plain `go test` then runs every time.
FUZZTIME ?= 30s
FUZZ_TARGETS := \
	./internal/config:FuzzParse \
	./internal/checks:FuzzCheckWebhook \
	./internal/servicehooks:FuzzServiceHook \
	./internal/vmresource:FuzzLifecycleMessage \
	./internal/ado:FuzzUnmarshalBody \
	./internal/ado:FuzzDecodeSuccess \
	./internal/ado:FuzzErrorAnswer
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz: $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

clean:
	rm -rf bin

# vulncheck installs govulncheck (pinned) into $(VULN_BIN) and checks the module against the Go
# vulnerability database (https://vuln.go.dev; VULNDB to point elsewhere, e.g. file:///mirror).
# It needs that database: where it cannot be reached the target fails, it does not pass
# (docs/security.md).
GOVULNCHECK_VERSION ?= v1.9.0
VULN_BIN ?= /tmp/adofleet-tools
VULNDB ?= https://vuln.go.dev
vulncheck:
	GOBIN=$(VULN_BIN) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)
	$(VULN_BIN)/govulncheck -db $(VULNDB) ./...
