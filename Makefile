# adofleet build and test targets. `make test` is the README's test command and what .ci/run runs.
GO ?= go
PKGS := ./...

.PHONY: all build test deps vet fmt bench bench-scale demo soak clean

all: build

build:
	$(GO) build -o bin/adofleet ./cmd/adofleet

# deps installs what the tests need that Go modules do not bring, from Debian's packages:
# chromium (the dashboard's real-browser test), python3-botocore (the AWS API models the AWS
# fakes are checked against) and shellcheck (the agent scripts). Skipped when already there.
# postgresql: the server binaries the postgres store's tests start a throwaway cluster from.
DEB_DEPS := chromium python3-botocore shellcheck postgresql
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
	$(GO) test ./internal/store/sqlite ./internal/store/postgres -run '^$$' -bench VMLifecycle -benchmem -count 6

demo:
	$(GO) run ./cmd/adofleet demo

clean:
	rm -rf bin
