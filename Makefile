# otelcol-sealos: `make demo` runs it against a local API server, `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

OCB_VERSION      := v0.155.0
GOLANGCI_VERSION := v2.15.0
HELM_VERSION     := v3.22.0
TOOLS_BIN        := $(CURDIR)/.tools/bin
OCB              := $(TOOLS_BIN)/builder-$(OCB_VERSION)
GOLANGCI         := $(TOOLS_BIN)/golangci-lint-$(GOLANGCI_VERSION)
HELM             := $(TOOLS_BIN)/helm-$(HELM_VERSION)
BINARY           := bin/otelcol-sealos

# Every Go module but the tools module and ocb's output.
MODULES := $(sort $(patsubst %/go.mod,%,$(shell find . -name go.mod -not -path './internal/tools/*' -not -path './distribution/_build/*' -not -path './.tools/*')))
METADATA := $(shell find receiver extension exporter -name metadata.yaml 2>/dev/null)
# What the binary is built from: a change here rebuilds it, nothing else does.
BUILD_INPUTS := builder-config.yaml $(shell find internal receiver extension exporter confmap -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) -not -name '*_test.go' -not -path 'internal/tools/*' 2>/dev/null)

# Each module is tested against its own go.mod (as ocb builds it), not the workspace.
export GOWORK := off

.PHONY: all build test test-unit test-deploy demo envtest-assets services generate check-generated lint bench bench-database clean tools fuzz-crds fuzz-cockroachlicense bench-crds bench-domain bench-exporter bench-imagepull bench-lvm bench-zombie measure-failover measure-shutdown helm promtool test-faults

all: build

$(OCB):
	@mkdir -p $(TOOLS_BIN)
	@echo ">> installing ocb $(OCB_VERSION)"
	GOBIN=$(TOOLS_BIN) go install go.opentelemetry.io/collector/cmd/builder@$(OCB_VERSION)
	mv $(TOOLS_BIN)/builder $@

$(GOLANGCI):
	@mkdir -p $(TOOLS_BIN)
	@echo ">> installing golangci-lint $(GOLANGCI_VERSION) (first time: ~2 min)"
	GOBIN=$(TOOLS_BIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)
	mv $(TOOLS_BIN)/golangci-lint $@

$(HELM):
	@mkdir -p $(TOOLS_BIN)
	@echo ">> installing helm $(HELM_VERSION) (first time: ~3 min)"
	GOBIN=$(TOOLS_BIN) go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	mv $(TOOLS_BIN)/helm $@

tools: $(OCB) $(HELM)

# helm for the chart tests (built from the Go module proxy, cached in .tools/bin).
helm: $(HELM)

# promtool and prometheus for the alert and dashboard tests: Debian's `prometheus` package (not
# started as a service; the tests run their own on loopback).
promtool:
	@command -v promtool >/dev/null || { echo ">> apt-get install prometheus (promtool)"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
		if command -v systemctl >/dev/null; then systemctl disable --now prometheus >/dev/null 2>&1 || true; fi; }

build: $(BINARY)

$(BINARY): $(OCB) $(BUILD_INPUTS)
	@echo ">> building $(BINARY) with ocb (first time: 10-20 min; later: seconds)"
	@mkdir -p distribution bin
	$(OCB) --config builder-config.yaml
	cp distribution/_build/otelcol-sealos $@

# kube-apiserver and etcd for envtest, built from the module proxy and cached outside the repo.
envtest-assets:
	@test/envtest/build-assets.sh >/dev/null

# PostgreSQL, MariaDB, Redis on loopback (installed with apt-get when missing) and FerretDB (built
# from the module proxy, cached): the database tests talk to them.
services:
	@test/services/start.sh

test: envtest-assets services build helm promtool
	@export KUBEBUILDER_ASSETS="$$(test/envtest/build-assets.sh)" OTELCOL_SEALOS_BIN="$(CURDIR)/$(BINARY)" HELM="$(HELM)"; \
	failed=""; for m in $(MODULES); do echo ">> go test $$m"; (cd $$m && go test -count=1 -race -timeout 15m ./...) || failed="$$failed $$m"; done; \
	if [ -n "$$failed" ]; then echo "FAILED modules:$$failed"; exit 1; fi

# The install tests only: Helm chart (lint, render, schema, validate, dry-run with the operators' CRDs,
# RBAC, reload), Operator resources, alert rules (promtool), dashboard queries (a real Prometheus).
test-deploy: envtest-assets services build helm promtool
	cd test && KUBEBUILDER_ASSETS="$$($(CURDIR)/test/envtest/build-assets.sh)" OTELCOL_SEALOS_BIN="$(CURDIR)/$(BINARY)" HELM="$(HELM)" \
		go test -count=1 -timeout 20m -run 'Chart|Operator|Alert|Dashboard|ShippedConfigs' ./e2e/

# The container image without Docker (distribution/image, go-containerregistry): an OCI layout in
# bin/image and a `docker load`-able bin/otelcol-sealos-image.tar. SOURCE_DATE_EPOCH sets the timestamps.
image: build
	cd distribution/image && go run . -binary $(CURDIR)/$(BINARY) -layout $(CURDIR)/bin/image -tar $(CURDIR)/bin/otelcol-sealos-image.tar

# The fault suite (docs/reliability.md): the real binary through API server kills, database outages,
# black holes, bad certificates and edits, frozen leaders, token floods, scrape storms, series churn
# and a memory limit. Its figures are logged as `figure:` lines (-v).
test-faults: envtest-assets services build
	cd test && KUBEBUILDER_ASSETS="$$($(CURDIR)/test/envtest/build-assets.sh)" OTELCOL_SEALOS_BIN="$(CURDIR)/$(BINARY)" OTELCOL_SEALOS_FAULTS=1 \
		go test -count=1 -timeout 40m -run '^TestFault' -v ./e2e/

# Unit tests only: no API server, no binary.
test-unit:
	@for m in $(MODULES); do (cd $$m && go test -short -count=1 ./...); done

demo: envtest-assets services build
	@cd test && go build -o $(CURDIR)/bin/demo ./cmd/demo
	@KUBEBUILDER_ASSETS="$$(test/envtest/build-assets.sh)" exec bin/demo -binary "$(CURDIR)/$(BINARY)" -config "$(CURDIR)/config/demo.yaml"

generate:
	@for f in $(METADATA); do echo ">> mdatagen $$f"; (cd $$(dirname $$f) && go tool -modfile=$(CURDIR)/internal/tools/go.mod mdatagen metadata.yaml); done
	@echo ">> deploy/generate.sh"; deploy/generate.sh

# CI: generated files must match metadata.yaml.
check-generated: generate
	@test -z "$$(git status --porcelain -- receiver extension exporter deploy)" || { git status --porcelain -- receiver extension exporter deploy; echo "generated files are stale: run 'make generate' and commit"; exit 1; }

lint: $(GOLANGCI)
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@for m in $(MODULES); do echo ">> tidy + vet + golangci-lint $$m"; (cd $$m && go mod tidy -diff && go vet ./... && $(GOLANGCI) run --config $(CURDIR)/.golangci.yml ./...); done

bench: envtest-assets
	cd receiver/nodereceiver && KUBEBUILDER_ASSETS="$$($(CURDIR)/test/envtest/build-assets.sh)" go test -run '^$$' -bench BenchmarkCollect5000Nodes -benchtime 20x -count 3 -timeout 30m .

# database receiver: one cycle over 1,000 databases discovered from Secrets (docs/benchmarks.md).
bench-database: envtest-assets services
	cd receiver/databasereceiver && KUBEBUILDER_ASSETS="$$($(CURDIR)/test/envtest/build-assets.sh)" go test -run '^$$' -bench BenchmarkCycle1000Databases -benchtime 1x -count 1 -timeout 30m .
# imagepull receiver: a 10,000-event burst from another process (CPU, heap) and 10,000 listed
# pods (heap) against envtest (docs/benchmarks.md).
bench-imagepull: envtest-assets
	cd receiver/imagepullreceiver && KUBEBUILDER_ASSETS="$$($(CURDIR)/test/envtest/build-assets.sh)" go test -run '^$$' -bench 'BenchmarkEventBurst|BenchmarkPodsMemory' -benchtime 1x -count 3 -timeout 30m .
# Short fuzz runs of the crds receiver's path and value parsers (FUZZTIME each).
FUZZTIME ?= 10s
fuzz-crds:
	cd receiver/crdsreceiver && go test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/fieldpath
	cd receiver/crdsreceiver && go test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/value
# Short fuzz runs of the cockroachlicense receiver's license decoder (FUZZTIME each).
fuzz-cockroachlicense:
	cd receiver/cockroachlicensereceiver && go test -run '^$$' -fuzz '^FuzzDecodeLicense$$' -fuzztime $(FUZZTIME) .
	cd receiver/cockroachlicensereceiver && go test -run '^$$' -fuzz '^FuzzLicenseRoundTrip$$' -fuzztime $(FUZZTIME) .

# The crds receiver on N (default 50,000) custom objects; KSM_BIN=... also measures
# kube-state-metrics on the same objects; EXPORTER=prometheus_state picks the exporter.
BENCH_N  ?= 50000
EXPORTER ?= prometheus
BENCH_INTERVAL ?= 10s
bench-crds: envtest-assets build
	@cd test && go build -o $(CURDIR)/bin/crdsbench ./cmd/crdsbench
	KUBEBUILDER_ASSETS="$$(test/envtest/build-assets.sh)" bin/crdsbench -binary $(CURDIR)/$(BINARY) -n $(BENCH_N) -exporter $(EXPORTER) -interval $(BENCH_INTERVAL) $${KSM_BIN:+-ksm $$KSM_BIN}
# Failover and reload figures of docs/benchmarks.md (ours vs contrib k8s_leader_elector, default
# durations; ~15 min for 3 runs).
measure-failover: envtest-assets build
	cd test && KUBEBUILDER_ASSETS="$$($(CURDIR)/test/envtest/build-assets.sh)" OTELCOL_SEALOS_BIN="$(CURDIR)/$(BINARY)" \
		OTELCOL_SEALOS_MEASURE_FAILOVER=$${RUNS:-3} go test -count=1 -timeout 90m -run TestMeasureFailover -v ./e2e/

# SIGTERM during a cycle over 1,000 black-holed databases (docs/benchmarks.md); OTELCOL_SEALOS_BIN
# picks another build to compare.
measure-shutdown: build
	cd test && OTELCOL_SEALOS_BIN="$${OTELCOL_SEALOS_BIN:-$(CURDIR)/$(BINARY)}" OTELCOL_SEALOS_MEASURE_SHUTDOWN=1 \
		go test -count=1 -timeout 60m -run TestMeasureShutdownDuringABlackHoledCycle -v ./e2e/

clean:
	rm -rf bin distribution/_build

bench-domain:
	cd receiver/domainreceiver && go test -run '^$$' -bench BenchmarkCycle1000Targets3IPs -benchtime 3x -count 3 -timeout 30m .
# prometheus_state vs contrib prometheus exporter: the real binary fed over OTLP, one process per
# exporter and size; prints the docs/benchmarks.md table (p50/p99 plain+gzip, RSS, ingest CPU).
bench-exporter: build
	cd test && go run ./cmd/exporterbench -binary $(CURDIR)/$(BINARY) -series 10000,50000,250000

# lvm receiver: one cycle on two real loop-device volume groups, without and with a thin pool (root, lvm2).
bench-lvm:
	cd receiver/lvmreceiver && go test -run '^$$' -bench BenchmarkCycle -benchtime 20x -count 3 .
# zombie receiver: one scan of a synthetic 10,000-process /proc (ZOMBIE_BENCH_REAL=N adds the real
# /proc with N extra sleeping processes).
bench-zombie:
	cd receiver/zombiereceiver && go test -run '^$$' -bench 'BenchmarkScan' -benchtime 20x -count 3 -timeout 20m .
