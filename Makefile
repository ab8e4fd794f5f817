# leadflow — the README's commands. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

TEMPORAL_VERSION := v1.5.1
CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/leadflow
TEMPORAL_CLI ?= $(CACHE_DIR)/bin/temporal-$(TEMPORAL_VERSION)
# Linters, pinned and built once into the cache like the CLI.
STATICCHECK_VERSION := v0.8.2
WORKFLOWCHECK_VERSION := v0.6.0
STATICCHECK := $(CACHE_DIR)/bin/staticcheck-$(STATICCHECK_VERSION)
WORKFLOWCHECK := $(CACHE_DIR)/bin/workflowcheck-$(WORKFLOWCHECK_VERSION)
export LEADFLOW_TEMPORAL_CLI := $(TEMPORAL_CLI)
# The demo's mail catcher, pinned and cached like the CLI.
MAILPIT_VERSION := v1.33.1
MAILPIT := $(CACHE_DIR)/bin/mailpit-$(MAILPIT_VERSION)

GO_PACKAGES := ./...

.PHONY: test lint unit integration bench bench-e2e temporal-cli chromium postgres record-histories export-histories build clean chaos mailpit fuzz

## test: everything CI checks — formatting, vet, unit tests with -race, the
## integration/end-to-end tests against a real Temporal dev server and Postgres,
## and the fault suite (chaos).
test: temporal-cli chromium postgres lint fuzz
	go test -race -count=1 -timeout 30m $(GO_PACKAGES)
	$(MAKE) --no-print-directory chaos
	$(MAKE) --no-print-directory bench-e2e

## chaos: the fault suite (internal/chaos, build tag chaos): the real worker and
## serve on a dev server and a Postgres cluster of its own (initdb into a temp
## dir), with Postgres stopped, the worker killed, the dev server restarted and
## the fake HubSpot / nurture receiver failing for minutes. Prints each
## scenario's figures and a summary; about 6 minutes (docs/reliability.md).
chaos: temporal-cli postgres
	go test -tags chaos -count=1 -v -timeout 12m ./internal/chaos

## fuzz: each fuzz target for FUZZTIME (seeds in each package's
## testdata/fuzz/<FuzzName>/; a crash is written there and fails the run).
## Minimising a new input is capped so it cannot eat the whole budget.
FUZZTIME ?= 10s
FUZZ_TARGETS := FuzzDecodeBatch:./internal/api FuzzParseSignature:./internal/api \
	FuzzParse:./internal/hswebhook FuzzCheckHeaders:./internal/hswebhook FuzzParse:./internal/policy
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		scripts/fuzz.sh "$${t%%:*}" "$${t#*:}" $(FUZZTIME) || exit 1; \
	done

## postgres: PostgreSQL on 127.0.0.1:5432 with trust auth (Debian's package
## installed and a cluster started when nothing answers there).
postgres:
	@scripts/postgres.sh

## chromium: Debian's Chromium for the UI's browser tests (installed once).
chromium:
	@command -v /usr/bin/chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

## lint: gofmt, go vet, a tidy go.mod, staticcheck, and workflowcheck over the
## workflow code (known-safe third-party calls in .ci/workflowcheck.yaml).
lint: $(STATICCHECK) $(WORKFLOWCHECK)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	go vet $(GO_PACKAGES)
	go vet -tags chaos ./internal/chaos
	@go mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }
	$(STATICCHECK) $(GO_PACKAGES)
	$(STATICCHECK) -tags chaos ./internal/chaos
	$(WORKFLOWCHECK) -config .ci/workflowcheck.yaml ./workflows/... ./internal/upgradeprobe/...

$(STATICCHECK):
	@mkdir -p $(CACHE_DIR)/bin $(CACHE_DIR)/gobin
	GOBIN=$(CACHE_DIR)/gobin go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(CACHE_DIR)/gobin/staticcheck $(STATICCHECK)

$(WORKFLOWCHECK):
	@mkdir -p $(CACHE_DIR)/bin $(CACHE_DIR)/gobin
	GOBIN=$(CACHE_DIR)/gobin go install go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION)
	mv $(CACHE_DIR)/gobin/workflowcheck $(WORKFLOWCHECK)

## bench: the decision-path and package benchmarks.
bench:
	go test -run '^$$' -bench . -benchmem ./internal/...

## bench-e2e: `starter bench` (docs/benchmarks.md): leadflow end to end on a
## dev server and a fresh Postgres database, beside a floor of minimal Temporal
## workflows. --quick (a few minutes, no thresholds) by default; for the
## record: make bench-e2e BENCH_FLAGS="--full --record".
BENCH_FLAGS ?= --quick
bench-e2e: temporal-cli postgres
	@dir=$$(mktemp -d); trap 'rm -rf "$$dir"' EXIT; \
	go build -o "$$dir/" ./starter ./worker && "$$dir/starter" bench $(BENCH_FLAGS)

## temporal-cli: the pinned Temporal CLI, built once into a cache outside the clone.
temporal-cli: $(TEMPORAL_CLI)
$(TEMPORAL_CLI):
	@mkdir -p $(CACHE_DIR)/bin $(CACHE_DIR)/gobin
	GOBIN=$(CACHE_DIR)/gobin go install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_VERSION)
	mv $(CACHE_DIR)/gobin/temporal $(TEMPORAL_CLI)

## mailpit: the demo's mail catcher (SMTP in, a web page of what arrived).
mailpit: $(MAILPIT)
$(MAILPIT):
	@mkdir -p $(CACHE_DIR)/bin $(CACHE_DIR)/gobin
	GOBIN=$(CACHE_DIR)/gobin go install github.com/axllent/mailpit@$(MAILPIT_VERSION)
	mv $(CACHE_DIR)/gobin/mailpit $(MAILPIT)

## record-histories: record a release's baseline (docs/baseline.md): every
## workflow scenario on a dev server, sealed into a NEW directory
## workflows/testdata/histories/$(RELEASE)/ with its MANIFEST.json. Refuses a
## release that exists: a baseline is never rewritten.
RELEASE ?=
record-histories: temporal-cli
	@test -n "$(RELEASE)" || { echo "usage: make record-histories RELEASE=vX.Y.Z"; exit 2; }
	LEADFLOW_RECORD_RELEASE=$(RELEASE) go test -tags record -run TestRecordHistories -count=1 -v -timeout 8m ./workflows

## export-histories: export the lead histories of a running server (make demo)
## into workflows/testdata/histories/$(RELEASE)/demo/, payloads decoded with the
## demo's codec keys (LEADFLOW_CODEC_KEYS or LEADFLOW_CODEC_KEYS_FILE) so they
## replay without a key. TEMPORAL_ADDRESS defaults to the demo's 127.0.0.1:7233;
## EXPORT_PER_QUERY leads of each stage and of the closed ones.
EXPORT_PER_QUERY ?= 4
export-histories:
	@test -n "$(RELEASE)" || { echo "usage: make export-histories RELEASE=vX.Y.Z [TEMPORAL_ADDRESS=host:port] [EXPORT_PER_QUERY=4]"; exit 2; }
	LEADFLOW_EXPORT_RELEASE=$(RELEASE) LEADFLOW_EXPORT_PER_QUERY=$(EXPORT_PER_QUERY) go test -tags export -run TestExportHistories -count=1 -v -timeout 5m ./internal/baseline

build:
	mkdir -p bin
	go build -o bin/ ./worker ./starter

clean:
	rm -rf bin

## demo: dev server with UI + Postgres + worker + starter serve + a simulated
## stream of leads; prints the UI link with the stuck-leads query and the funnel.
.PHONY: demo
demo: temporal-cli mailpit postgres
	CACHE_DIR=$(CACHE_DIR) LEADFLOW_MAILPIT=$(MAILPIT) scripts/demo.sh
