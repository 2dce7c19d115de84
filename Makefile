# perfbase: run `make help` for the targets.
GO        ?= go
BIN       ?= bin/perfbase
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null)
BRANCH    ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null)
VPKG      := github.com/prometheus/common/version
LDFLAGS   := -s -w -X $(VPKG).Version=$(VERSION) -X $(VPKG).Revision=$(REVISION) -X $(VPKG).Branch=$(BRANCH) -X $(VPKG).BuildUser=perfbase -X $(VPKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)
# golangci-lint is pinned: `make lint` installs exactly this version into
# GOBIN (go env GOBIN, else GOPATH/bin) when the binary there is another.
GOLANGCI_VERSION := v2.15.0
GOBIN     ?= $(or $(shell $(GO) env GOBIN),$(firstword $(subst :, ,$(shell $(GO) env GOPATH)))/bin)
GOLANGCI  := $(GOBIN)/golangci-lint

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*##/ {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/perfbase with version information.
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/perfbase

.PHONY: demo
demo: build ## Run the demo on the embedded store (the README's first command).
	./$(BIN) demo

.PHONY: test
test: ## Run all tests with the race detector (integration tests need the servers: see .ci/run).
	$(GO) test -race -count=1 -timeout 40m ./...

.PHONY: test-short
test-short: ## Run the unit tests only.
	$(GO) test -short -count=1 ./...

# Every fuzz target, each for FUZZTIME (go test -fuzz takes one target at a
# time). A failing input is saved under the package's testdata/fuzz.
FUZZTIME ?= 5s
FUZZ_TARGETS := \
	./analyzer:FuzzLoadBaseline \
	./internal/importer:FuzzSanitizeInterface \
	./internal/importer:FuzzJTLReader \
	./internal/importer:FuzzVegetaReader \
	./internal/runrecord:FuzzDecode \
	./internal/runrecord:FuzzDecodeEdits \
	./loader:FuzzJSONField \
	./loader/feed:FuzzCompile \
	./loader/scenario:FuzzParse

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME (5s) each.
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

.PHONY: lint
lint: golangci-lint ## Run go vet and golangci-lint (the pinned version, see .golangci.yml).
	$(GO) vet ./...
	$(GOLANGCI) run ./...

.PHONY: golangci-lint
golangci-lint: ## Install the pinned golangci-lint into GOBIN unless that version is there.
	@test "$$($(GOLANGCI) version 2>/dev/null | awk '{print $$4}')" = $(GOLANGCI_VERSION:v%=%) || { \
		echo "installing golangci-lint $(GOLANGCI_VERSION) into $(GOBIN)"; \
		GOBIN='$(GOBIN)' $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION); }
	@test "$$($(GOLANGCI) version | awk '{print $$4}')" = $(GOLANGCI_VERSION:v%=%) || { \
		echo "$(GOLANGCI) is not golangci-lint $(GOLANGCI_VERSION)" >&2; exit 1; }

.PHONY: tidy
tidy: ## Check that go.mod and go.sum are tidy.
	$(GO) mod tidy
	git diff --exit-code go.mod go.sum

.PHONY: bench
bench: ## Run the benchmarks against peers (see BENCHMARKS.md).
	bash .ci/bench

.PHONY: clean
clean: ## Remove build output.
	rm -rf bin
