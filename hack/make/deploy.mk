# Image, Helm chart, local cluster and end-to-end targets (owner: the install/e2e part).

IMAGE_REPO ?= localhost/districtlake
IMAGE_TAG ?= dev
IMAGE ?= $(IMAGE_REPO):$(IMAGE_TAG)
IMAGE_TAR ?= $(BIN)/districtlake-image.tar
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)
GOARCH_IMAGE ?= $(shell $(GO) env GOARCH)
DISTRICTLAKE_CLUSTER_STATE ?= /tmp/districtlake-cluster
export DISTRICTLAKE_CLUSTER_STATE

##@ Deploy

.PHONY: image
image: ## Build the OCI image tarball $(IMAGE_TAR) without Docker (hack/image).
	CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH_IMAGE) $(GO) build -trimpath \
		-ldflags "-s -w -X github.com/districtlake/districtlake/internal/cli.version=$(VERSION)" \
		-o $(BIN)/image/districtlake ./cmd/districtlake
	$(GO) run ./hack/image -binary $(BIN)/image/districtlake -arch $(GOARCH_IMAGE) -tag $(IMAGE) \
		-version $(VERSION) -revision $(REVISION) -o $(IMAGE_TAR)

.PHONY: docker-build
docker-build: ## Build the image with Docker (needs a Docker daemon).
	docker build -t $(IMAGE) --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) .

.PHONY: chart-crds
chart-crds: ## Copy config/crd/bases into the chart's templates/crds (wrapped in crds.install/crds.keep).
	$(GO) run ./hack/chartsync -crds

.PHONY: chart-rbac
chart-rbac: ## Copy the rules of config/rbac/role.yaml into the chart's manager ClusterRole.
	$(GO) run ./hack/chartsync -rbac

.PHONY: chart-sync
chart-sync: chart-crds chart-rbac ## Sync every generated file of the chart from config/.

.PHONY: helm-lint
helm-lint: $(HELM) ## Lint the Helm chart (strict).
	$(HELM) lint charts/districtlake --strict --kube-version $(patsubst v%,%,$(K8S_VERSION))

.PHONY: test-chart
test-chart: $(HELM) ## Chart tests: lint, render each values combination, server-side dry run on envtest.
	$(GO) test ./test/chart/... -count=1

# Relative aliases, so that `make bin/helm` and `make bin/kustomize` work as the messages say.
bin/helm: $(HELM)
bin/kustomize: $(KUSTOMIZE)

##@ Local cluster and end-to-end

.PHONY: cluster-up
cluster-up: ## Start a real single-node Kubernetes on this machine (no Docker; root; hack/cluster/up.sh).
	hack/cluster/up.sh

.PHONY: cluster-down
cluster-down: ## Stop it and leave the machine as it was (hack/cluster/down.sh).
	hack/cluster/down.sh

.PHONY: egress-check
egress-check: ## Prove the running cluster's egress guard (hack/cluster/egress-check.sh).
	hack/cluster/egress-check.sh

E2E_FLAGS ?= -v -count=1 -timeout 40m

.PHONY: e2e
e2e: test-binaries image $(HELM) kueue ## End-to-end on a real local cluster: cluster-up, the test/e2e suite, cluster-down (even on failure).
	@start=$$(date +%s); status=0; \
	hack/cluster/up.sh || exit 1; \
	$(GO) test -tags e2e ./test/e2e/... $(E2E_FLAGS) || status=$$?; \
	keep=; [ $$status -eq 0 ] || keep=1; \
	DISTRICTLAKE_CLUSTER_KEEP_LOGS=$$keep hack/cluster/down.sh || status=1; \
	echo "e2e: finished in $$(( $$(date +%s) - start ))s (exit $$status)" >&2; \
	exit $$status

.PHONY: kueue
kueue: ## Build Kueue $(KUEUE_VERSION) for the e2e suite: manager, image tarball, manifests (hack/kueue.sh; cached by version).
	hack/kueue.sh $(KUEUE_VERSION)

.PHONY: kind-up
kind-up: $(HELM) ## With Docker and kind: a kind cluster running districtlake on the samples (hack/kind-up.sh).
	hack/kind-up.sh
