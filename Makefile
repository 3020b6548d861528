# otelcol-sealos: `make demo` runs it against a local API server, `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

OCB_VERSION      := v0.155.0
GOLANGCI_VERSION := v2.15.0
TOOLS_BIN        := $(CURDIR)/.tools/bin
OCB              := $(TOOLS_BIN)/builder-$(OCB_VERSION)
GOLANGCI         := $(TOOLS_BIN)/golangci-lint-$(GOLANGCI_VERSION)
BINARY           := bin/otelcol-sealos

# Every Go module but the tools module and ocb's output.
MODULES := $(sort $(patsubst %/go.mod,%,$(shell find . -name go.mod -not -path './internal/tools/*' -not -path './distribution/_build/*' -not -path './.tools/*')))
METADATA := $(shell find receiver extension -name metadata.yaml 2>/dev/null)
# What the binary is built from: a change here rebuilds it, nothing else does.
BUILD_INPUTS := builder-config.yaml $(shell find internal receiver extension confmap -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) -not -name '*_test.go' -not -path 'internal/tools/*' 2>/dev/null)

# Each module is tested against its own go.mod (as ocb builds it), not the workspace.
export GOWORK := off

.PHONY: all build test test-unit demo envtest-assets generate check-generated lint bench clean tools

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

tools: $(OCB)

build: $(BINARY)

$(BINARY): $(OCB) $(BUILD_INPUTS)
	@echo ">> building $(BINARY) with ocb (first time: 10-20 min; later: seconds)"
	@mkdir -p distribution bin
	$(OCB) --config builder-config.yaml
	cp distribution/_build/otelcol-sealos $@

# kube-apiserver and etcd for envtest, built from the module proxy and cached outside the repo.
envtest-assets:
	@test/envtest/build-assets.sh >/dev/null

test: envtest-assets build
	@export KUBEBUILDER_ASSETS="$$(test/envtest/build-assets.sh)" OTELCOL_SEALOS_BIN="$(CURDIR)/$(BINARY)"; \
	for m in $(MODULES); do echo ">> go test $$m"; (cd $$m && go test -count=1 -race -timeout 15m ./...); done

# Unit tests only: no API server, no binary.
test-unit:
	@for m in $(MODULES); do (cd $$m && go test -short -count=1 ./...); done

demo: envtest-assets build
	@cd test && go build -o $(CURDIR)/bin/demo ./cmd/demo
	@KUBEBUILDER_ASSETS="$$(test/envtest/build-assets.sh)" exec bin/demo -binary "$(CURDIR)/$(BINARY)" -config "$(CURDIR)/config/demo.yaml"

generate:
	@for f in $(METADATA); do echo ">> mdatagen $$f"; (cd $$(dirname $$f) && go tool -modfile=$(CURDIR)/internal/tools/go.mod mdatagen metadata.yaml); done
	@echo ">> deploy/generate.sh"; deploy/generate.sh

# CI: generated files must match metadata.yaml.
check-generated: generate
	@test -z "$$(git status --porcelain -- receiver extension deploy)" || { git status --porcelain -- receiver extension deploy; echo "generated files are stale: run 'make generate' and commit"; exit 1; }

lint: $(GOLANGCI)
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@for m in $(MODULES); do echo ">> vet + golangci-lint $$m"; (cd $$m && go vet ./... && $(GOLANGCI) run --config $(CURDIR)/.golangci.yml ./...); done

bench: envtest-assets
	cd receiver/nodereceiver && KUBEBUILDER_ASSETS="$$($(CURDIR)/test/envtest/build-assets.sh)" go test -run '^$$' -bench BenchmarkCollect5000Nodes -benchtime 20x -count 3 -timeout 30m .

clean:
	rm -rf bin distribution/_build
