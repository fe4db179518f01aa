# adofleet build and test targets. `make test` is the README's test command and what .ci/run runs.
GO ?= go
PKGS := ./...

.PHONY: all build test deps vet fmt bench demo soak clean

all: build

build:
	$(GO) build -o bin/adofleet ./cmd/adofleet

# deps installs what the tests need that Go modules do not bring: Debian's Chromium for the
# dashboard's real-browser test. Skipped when a Chromium is already there.
deps:
	@command -v chromium >/dev/null 2>&1 || [ -x "$$ADOFLEET_CHROMIUM" ] || { \
		echo "installing chromium (dashboard browser test)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	$(GO) mod download

test: deps
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 20m $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -l -w .

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

demo:
	$(GO) run ./cmd/adofleet demo

clean:
	rm -rf bin
