# vocode_exporter build, test and lint targets. `make help` lists them.

GO          ?= go
PROMTOOL    ?= promtool
BINARY      ?= vocode_exporter
# Release binaries are static; the race detector needs cgo.
CGO_ENABLED ?= 0

# Version information, printed by `vocode_exporter --version` and exported as
# vocode_exporter_build_info. The release version lives in the VERSION file.
VERSION    ?= $(shell cat $(CURDIR)/VERSION)
REVISION   ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH     ?= $(shell git symbolic-ref -q --short HEAD 2>/dev/null || echo unknown)
BUILD_USER ?= $(shell id -un 2>/dev/null || echo unknown)@$(shell hostname 2>/dev/null || uname -n)
BUILD_DATE ?= $(shell date -u +%Y%m%d-%H:%M:%S)

VERSION_PKG := github.com/prometheus/common/version
LDFLAGS     := -s -w \
	-X $(VERSION_PKG).Version=$(VERSION) \
	-X $(VERSION_PKG).Revision=$(REVISION) \
	-X $(VERSION_PKG).Branch=$(BRANCH) \
	-X $(VERSION_PKG).BuildUser=$(BUILD_USER) \
	-X $(VERSION_PKG).BuildDate=$(BUILD_DATE)

# Tools are cached outside the work tree so fresh clones (CI) reuse them; set
# TOOLS_DIR=$(CURDIR)/.tools/bin to keep them inside (that path is ignored by git).
CACHE_HOME            := $(or $(XDG_CACHE_HOME),$(if $(HOME),$(HOME)/.cache,$(CURDIR)/.tools))
TOOLS_DIR             ?= $(CACHE_HOME)/vocode_exporter/bin
GOLANGCI_LINT_VERSION ?= v2.15.0
GOLANGCI_LINT         := $(TOOLS_DIR)/golangci-lint

# Test-only and tool Go modules, kept apart so that their dependencies stay
# out of the exporter's go.mod and its ./... (internal/bench holds the
# benchmark tools, which are not the exporter). The root's ./... stops at
# their go.mod files, so each target that should cover them names them.
SUB_MODULES := dashboards/dashboardtest internal/bench internal/release mixin status/statustest charts/charttest

# Where tests leave files for people to look at (the status page's
# screenshot); go test -artifacts puts them under _artifacts/ there.
ARTIFACTS_DIR ?= $(CURDIR)/test-artifacts

# Alerting rules and their unit tests (files named *_test.yml).
RULE_FILES      = $(filter-out %_test.yml,$(wildcard alerts/*.yml))
RULE_TEST_FILES = $(wildcard alerts/*_test.yml)

# Release archives (`make release`), reproducible from the commit: the build
# date is the commit's time, the build user fixed, and internal/cmd/mkrelease
# writes the archives without the machine's tar and zip (see its doc).
DIST              ?= dist
RELEASE_PLATFORMS ?= linux/amd64 linux/arm64 darwin/arm64 windows/amd64
RELEASE_FILES     := LICENSE README.md dashboards/vocode.json alerts/vocode.rules.yml
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)

FUZZTIME ?= 30s
IMAGE    ?= vocode_exporter:$(VERSION)
# The engine `make image` builds with: docker where a Docker engine answers,
# else podman. Only the image targets expand it.
CONTAINER_ENGINE ?= $(shell docker info >/dev/null 2>&1 && echo docker || { command -v podman >/dev/null 2>&1 && echo podman || echo docker; })
# Extra flags for the engine's build, e.g. --pull=never --network=host.
IMAGE_BUILD_FLAGS ?=

.DEFAULT_GOAL := build

.PHONY: help
help: ## List the targets.
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | sed -e 's/:.*## /\t/' | expand -t 18

.PHONY: build
build: ## Build ./vocode_exporter (static, with version information).
	CGO_ENABLED=$(CGO_ENABLED) $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BINARY) .

.PHONY: version
version: build ## Build, then print the binary's --version.
	./$(BINARY) --version

# The exporter that the end-to-end tests of every module run: make test
# builds it once with a plain go build and hands it to them in
# VOCODE_E2E_BINARY (internal/e2e's Build), rather than each test binary
# linking its own while the other modules compile.
E2E_BINARY := $(CURDIR)/.tools/e2e/$(BINARY)

# make test runs in three phases. The first, two steps at a time, compiles
# and vets what every module's tests need (-run '^$' runs none of them),
# and runs the steps whose work is compiling or that do not depend on time:
# the release module's tests (their builds are compilations too), the rule
# tests, the bench tools' unit tests (internal/bench), the vetting of
# modules without tests. The second
# runs the dashboard and browser tests next to each other, as both mostly
# wait (on Prometheus, on the browser). The last runs the exporter's tests
# from the build cache, alone: their load test's heap check fails when the
# cores are busy with something else. Each go test vets what it compiles
# (-vet=all: go vet's full set of checks), so no separate go vet pass
# compiles it all again.
TEST_COMPILE   := test-e2e-binary test-race-compile test-release test-dashboards-compile test-browser-compile test-rules test-mixin test-bench test-vet-untested
TEST_WAITING   := test-dashboards test-browser
# charts/charttest is tested by .ci/run (make test-chart), not make test:
# Helm's engine pulls in ~520 packages, minutes of compiling from cold caches.
TESTED_MODULES := dashboards/dashboardtest internal/bench internal/release mixin status/statustest charts/charttest
TEST_PARALLEL  := $(MAKE) --no-print-directory -j2 --output-sync=target

.PHONY: test
# Tests that need promtool or Prometheus fail instead of skipping under make test.
test: export VOCODE_E2E_REQUIRE_PROMETHEUS = 1
test: export VOCODE_E2E_BINARY = $(E2E_BINARY)
test: test-tools ## Vet every module and run its tests: the exporter's with -race, rules, dashboards, release checks, the browser test.
	$(TEST_PARALLEL) $(TEST_COMPILE)
	$(TEST_PARALLEL) $(TEST_WAITING)
	$(MAKE) --no-print-directory test-race

.PHONY: test-race
test-race: ## The exporter's Go tests with -race, vetted.
	CGO_ENABLED=1 $(GO) test -race -vet=all -count=1 ./...

.PHONY: test-e2e-binary test-race-compile test-dashboards-compile test-browser-compile test-bench test-vet-untested
test-e2e-binary:
	$(GO) build -o $(E2E_BINARY) .
test-race-compile:
	CGO_ENABLED=1 $(GO) test -race -vet=all -count=1 -run '^$$' ./...
test-dashboards-compile:
	cd dashboards/dashboardtest && $(GO) test -vet=all -count=1 -run '^$$' ./...
test-browser-compile:
	cd status/statustest && $(GO) test -vet=all -count=1 -run '^$$' ./...
test-bench:
	cd internal/bench && $(GO) test -vet=all -count=1 ./...
test-vet-untested:
	@set -e; for m in $(filter-out $(TESTED_MODULES),$(SUB_MODULES)); do echo "cd $$m && $(GO) vet ./..."; (cd $$m && $(GO) vet ./...); done

.PHONY: test-tools
test-tools: ## Install Debian's prometheus (promtool and a real server) and chromium when missing.
	@missing=; \
	{ command -v $(PROMTOOL) >/dev/null && command -v prometheus >/dev/null; } || missing="prometheus"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		echo ">> installing Debian's $$missing (for the end-to-end and browser tests)"; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi

.PHONY: test-short
test-short: ## Go tests only, without -race and the slow ones.
	$(GO) test -short -count=1 ./...

.PHONY: test-rules
test-rules: ## promtool: check the alerting rules and run their unit tests.
	@test -n "$(RULE_FILES)" || { echo "no rule files in alerts/" >&2; exit 1; }
	$(PROMTOOL) check rules $(RULE_FILES)
	@test -n "$(RULE_TEST_FILES)" || { echo "no rule unit tests (alerts/*_test.yml)" >&2; exit 1; }
	$(PROMTOOL) test rules $(RULE_TEST_FILES)

.PHONY: test-mixin
test-mixin: ## The mixin's tests (its own Go module): committed files are its rendering, jsonnetfmt and jsonnet-lint clean.
	cd mixin && $(GO) test -vet=all -count=1 ./...

# alerts/vocode.rules.yml and dashboards/vocode.json are the mixin rendered
# with its defaults; TestCommittedFilesAreRendered fails when they are not.
.PHONY: generate
generate: ## Render mixin/ into alerts/vocode.rules.yml, dashboards/vocode.json and the Helm chart's files/.
	cd mixin && $(GO) run ./cmd/mixin-render -rules-dir ../alerts -dashboards-dir ../dashboards

.PHONY: test-dashboards
test-dashboards: ## Dashboard tests (their own Go module).
	cd dashboards/dashboardtest && $(GO) test -vet=all -count=1 ./...

.PHONY: test-chart
# The exporter the chart's arguments are checked with is the one make test
# builds; promtool checks the PrometheusRule and must not be skipped.
test-chart: export VOCODE_E2E_REQUIRE_PROMETHEUS = 1
test-chart: export VOCODE_E2E_BINARY = $(E2E_BINARY)
test-chart: test-e2e-binary ## The Helm chart's tests (their own Go module): rendered with Helm's library for every ci/ values file, no cluster. Not in make test: .ci/run runs it.
	cd charts/charttest && $(GO) test -vet=all -count=1 ./...

# The Helm chart: `make generate` writes the rules and the dashboard into its
# files/ (charts/charttest checks they are current); `make chart` packages it
# as `helm package` would, but with every file time the commit's
# (charts/charttest/pack.go says why), so that two runs give the same bytes.
CHART_PACKAGE := vocode-exporter-$(VERSION).tgz

.PHONY: generate generate-chart chart
generate: generate-chart
generate-chart: ## Render the rules and the dashboard into the Helm chart's files/.
	cd charts/charttest && $(GO) run ./mkchart generate -root ../..
chart: ## Package the Helm chart as $(DIST)/vocode-exporter-VERSION.tgz, reproducibly.
	@test -n "$(SOURCE_DATE_EPOCH)" || \
		{ echo "make chart needs a git checkout, or SOURCE_DATE_EPOCH set" >&2; exit 1; }
	cd charts/charttest && $(GO) run ./mkchart package -chart ../vocode-exporter \
		-out $(abspath $(DIST)) -version $(VERSION) -epoch $(SOURCE_DATE_EPOCH)

.PHONY: test-release
# The tests that compile the exporter with the release's flags (static,
# -trimpath) run with the release archives, whose builds they share, in
# .ci/run: from cold caches each is a full compilation of its own.
RELEASE_BUILD_TESTS := ^(TestReleaseArchives|TestDockerfileBuilderProducesStaticBinary)$$
test-release: ## Dockerfile, .dockerignore, VERSION, CHANGELOG and examples/ checks (their own Go module).
	cd internal/release && $(GO) test -vet=all -count=1 -skip '$(RELEASE_BUILD_TESTS)' ./...

# Two release builds, byte for byte the same, and their archives checked: a
# cross-build of four platforms, about two minutes from cold caches, so it
# runs in .ci/run next to `make release` rather than in every `make test`.
.PHONY: test-release-archives
test-release-archives: ## make release twice, and its archives, sums and binaries checked (TestReleaseArchives); the Dockerfile's go build run as written.
	cd internal/release && $(GO) test -count=1 -run '$(RELEASE_BUILD_TESTS)' ./...

.PHONY: test-browser
test-browser: ## The status page in Debian's chromium (its own Go module); keeps a screenshot in test-artifacts/.
	mkdir -p $(ARTIFACTS_DIR)
	cd status/statustest && $(GO) test -vet=all -count=1 -artifacts -outputdir=$(ARTIFACTS_DIR) -v ./...

.PHONY: lint
lint: golangci-lint lint-mixin ## golangci-lint on every Go module of the tree; the mixin's jsonnet and rendered rules.
	$(GOLANGCI_LINT) run ./...
	@set -e; for m in $(SUB_MODULES); do \
		echo "cd $$m && $(GOLANGCI_LINT) run --config $(CURDIR)/.golangci.yml ./..."; \
		(cd $$m && $(GOLANGCI_LINT) run --config $(CURDIR)/.golangci.yml ./...); \
	done

# go-jsonnet's formatter (as jsonnetfmt --test) and linter (as jsonnet-lint)
# run as Go tests of the mixin's module, then promtool checks the rendering.
.PHONY: lint-mixin
lint-mixin: ## jsonnetfmt (no diff) and jsonnet-lint on mixin/, promtool check rules on its rendering.
	cd mixin && $(GO) test -count=1 -run '^TestJsonnet(Formatted|Lint)$$' ./...
	$(PROMTOOL) check rules alerts/vocode.rules.yml

.PHONY: fmt
fmt: golangci-lint ## Rewrite the sources of every module with the configured formatters.
	$(GOLANGCI_LINT) fmt ./...
	@set -e; for m in $(SUB_MODULES); do (cd $$m && $(GOLANGCI_LINT) fmt --config $(CURDIR)/.golangci.yml ./...); done

# Installs golangci-lint with `go install` unless the cached binary already is
# the pinned version.
.PHONY: golangci-lint
golangci-lint:
	@if [ "$$($(GOLANGCI_LINT) version --short 2>/dev/null)" != "$(patsubst v%,%,$(GOLANGCI_LINT_VERSION))" ]; then \
		echo ">> installing golangci-lint $(GOLANGCI_LINT_VERSION) into $(TOOLS_DIR)"; \
		mkdir -p "$(TOOLS_DIR)" && \
		GOBIN="$(TOOLS_DIR)" $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION); \
	fi

.PHONY: bench
# vocode-bench runs in its own module (internal/bench), so relative paths
# given to its flags are relative to internal/bench.
bench: ## Go benchmarks, then the scrape-cost and many-accounts tables of internal/bench/vocode-bench (~9 min).
	$(GO) test -run '^$$' -bench . -benchmem ./vocode/ ./collector/
	cd internal/bench && $(GO) run ./vocode-bench

.PHONY: bench-quick
bench-quick: ## A small scrape-cost table (1,000 and 10,000 connections, 20 ms, concurrency 4), each many-accounts row once (~25 s).
	cd internal/bench && $(GO) run ./vocode-bench --quick

.PHONY: fuzz
fuzz: ## Run every Fuzz* target for FUZZTIME each (default 30s).
	@set -e; \
	$(GO) list -f '{{.ImportPath}} {{.Dir}}' ./... | while read -r pkg dir; do \
		for fn in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do \
			echo ">> $$pkg $$fn"; \
			$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
		done; \
	done

.PHONY: release
release: ## Reproducible release archives, one per platform, the Helm chart, and sha256sums.txt in $(DIST)/.
	@test "$(REVISION)" != unknown -a -n "$(SOURCE_DATE_EPOCH)" || \
		{ echo "make release needs a git checkout, or REVISION and SOURCE_DATE_EPOCH set" >&2; exit 1; }
	@git diff --quiet HEAD -- 2>/dev/null || \
		echo ">> warning: this is not a clean checkout of $(REVISION): the archives are not that commit's" >&2
	rm -rf $(DIST)
	$(MAKE) --no-print-directory chart
	$(GO) run ./internal/cmd/mkrelease -out $(DIST) -version $(VERSION) -revision $(REVISION) \
		-epoch $(SOURCE_DATE_EPOCH) -platforms '$(RELEASE_PLATFORMS)' -sum $(CHART_PACKAGE) $(RELEASE_FILES)

.PHONY: image
image: ## Build the container image vocode_exporter:VERSION (IMAGE=...) with docker, or podman where no Docker engine runs.
	$(CONTAINER_ENGINE) build $(IMAGE_BUILD_FLAGS) \
		--build-arg VERSION=$(VERSION) \
		--build-arg REVISION=$(REVISION) \
		--build-arg BRANCH=$(BRANCH) \
		--build-arg BUILD_USER=$(BUILD_USER) \
		--build-arg BUILD_DATE=$(BUILD_DATE) \
		-t $(IMAGE) .

.PHONY: docker
docker: image ## The same as make image.

.PHONY: image-tools
image-tools: ## Install Debian's podman, buildah, runc and busybox-static when missing (for make test-image).
	@missing=; \
	for t in podman buildah runc; do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	dpkg-query -W -f '$${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || missing="$$missing busybox-static"; \
	if [ -n "$$missing" ]; then \
		echo ">> installing Debian's$$missing (for the container image test)"; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi

# Builds the unchanged Dockerfile with podman under a temporary root of its
# own and runs the image (TestImage, internal/release); see README.md.
# go test passes when -run matches no test ("no tests to run") and when the
# test skips, so the target also asks the -v output, kept in
# IMAGE_TEST_LOG, for TestImage's own PASS line.
IMAGE_TEST_LOG = $(ARTIFACTS_DIR)/test-image.log
.PHONY: test-image
test-image: image-tools ## Build the image with podman in a throwaway root, run it hardened against the fake API, inspect it; keeps the build log in test-artifacts/.
	mkdir -p $(ARTIFACTS_DIR)
	cd internal/release && { VOCODE_TEST_IMAGE=1 $(GO) test -count=1 -timeout 15m -run '^TestImage$$' -artifacts -outputdir=$(ARTIFACTS_DIR) -v ./... 2>&1; echo $$? >$(IMAGE_TEST_LOG).exit; } | tee $(IMAGE_TEST_LOG)
	@test "$$(cat $(IMAGE_TEST_LOG).exit)" = 0
	@grep -q '^--- PASS: TestImage ' $(IMAGE_TEST_LOG) || \
		{ echo "make test-image: no '--- PASS: TestImage' in the output ($(IMAGE_TEST_LOG)): the image test did not run" >&2; exit 1; }

.PHONY: clean
clean: ## Remove build output.
	rm -f $(BINARY)
	rm -rf $(DIST)
	rm -f coverage.* *.out *.prof
