# districtlake Makefile. `make help` lists the targets.

# Tool versions (pinned; installed into bin/ with go install).
CONTROLLER_GEN_VERSION ?= v0.23.0
HELM_VERSION ?= v3.22.0
KUSTOMIZE_VERSION ?= v5.7.1
GOLANGCI_LINT_VERSION ?= v2.15.0
# Kubernetes version of the test control plane; follows k8s.io/api in go.mod.
K8S_VERSION ?= v1.37.2
# Kueue the end-to-end suite installs on the local cluster (hack/kueue.sh builds it from the
# Go module proxy).
KUEUE_VERSION ?= v0.17.0

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec
ROOT := $(shell pwd)
BIN := $(ROOT)/bin
GO ?= go
CONTROLLER_GEN ?= $(BIN)/controller-gen
HELM ?= $(BIN)/helm
KUSTOMIZE ?= $(BIN)/kustomize
GOLANGCI_LINT ?= $(BIN)/golangci-lint

# Test servers built by hack/ scripts, cached in ~/.cache/districtlake and linked into bin/.
export KUBEBUILDER_ASSETS ?= $(BIN)/k8s
export DISTRICTLAKE_MINIO ?= $(BIN)/minio
export DISTRICTLAKE_DUCKDB ?= $(BIN)/duckdb

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-18s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs and RBAC from the API markers.
	$(CONTROLLER_GEN) rbac:roleName=manager crd paths="./..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run go fmt.
	$(GO) fmt ./...

.PHONY: vet
vet: ## Run go vet.
	$(GO) vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint with .golangci.yml (test/e2e included through its build tag).
	$(GOLANGCI_LINT) run ./...

.PHONY: verify
verify: ## Regenerate every generated file in a copy of the tree and fail on any difference; then lint.
	hack/verify.sh

##@ Build

.PHONY: build
build: ## Build bin/districtlake.
	CGO_ENABLED=0 $(GO) build -o $(BIN)/districtlake ./cmd/districtlake

##@ Test

.PHONY: test-binaries
test-binaries: ## Build or install kube-apiserver, etcd, kubectl, MinIO and DuckDB (cached by version).
	hack/test-binaries.sh

.PHONY: test-unit
test-unit: ## The fast tier: every Go test that needs no server (go test -short); the others skip.
	$(GO) test -short ./...

.PHONY: test
test: test-binaries $(HELM) verify test-go e2e ## Everything CI runs: verify, the Go tests on real servers, the chart tests and the end-to-end suite.

.PHONY: test-go
test-go: test-binaries $(HELM) ## The Go tests against real servers (kube-apiserver + etcd, MinIO, DuckDB, Chromium, helm).
	$(GO) test ./... -count=1 -timeout 30m

.PHONY: bench
bench: test-binaries ## Run the benchmarks: ours against DuckDB, the Go benchmarks, then bench-scale.
	hack/bench.sh
	$(MAKE) bench-scale

# SCALE_N is the list of DistrictSource counts bench-scale runs, e.g. make bench-scale SCALE_N=1000.
SCALE_N ?= 1000,13300

.PHONY: bench-scale
bench-scale: test-binaries ## The manager against raw creates at SCALE_N DistrictSources on envtest (issue 13).
	KUBEBUILDER_ASSETS=$${KUBEBUILDER_ASSETS:-$(CURDIR)/bin/k8s} $(GO) run ./hack/bench/scale -n $(SCALE_N)

# Targets owned by parts of the project (cluster, chart, e2e, benchmarks) live beside them.
include $(wildcard hack/make/*.mk)

##@ Tools

# Each tool is built once per version into ~/.cache/districtlake/tools and linked into bin/.

$(CONTROLLER_GEN):
	hack/go-tool.sh controller-gen sigs.k8s.io/controller-tools/cmd/controller-gen $(CONTROLLER_GEN_VERSION) $@

$(HELM):
	hack/go-tool.sh helm helm.sh/helm/v3/cmd/helm $(HELM_VERSION) $@

$(KUSTOMIZE):
	hack/go-tool.sh kustomize sigs.k8s.io/kustomize/kustomize/v5 $(KUSTOMIZE_VERSION) $@

$(GOLANGCI_LINT):
	hack/go-tool.sh golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint $(GOLANGCI_LINT_VERSION) $@

##@ Run

LAKE ?= ./lake
SAMPLES ?= config/samples

.PHONY: run
run: ## Ingest config/samples into ./lake and compare the states, without a cluster.
	$(GO) run ./cmd/districtlake run -f $(SAMPLES) --lake $(LAKE)
