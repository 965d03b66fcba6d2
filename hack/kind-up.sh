#!/usr/bin/env bash
# The local quickstart for machines with Docker: a kind cluster running districtlake on the
# samples, from source.
#
#   hack/kind-up.sh          # or: make kind-up
#
# It creates the kind cluster "districtlake" (KIND_CLUSTER_NAME), builds the districtlake image
# (Dockerfile) and a MinIO image (hack/kind/minio.Dockerfile) and loads them into the cluster,
# starts MinIO in districtlake-system with a bucket, helm installs the chart, applies
# config/samples with the Lake's credentials Secret, runs every DistrictSource and then every
# StateComparison once, and prints `kubectl get dsrc,sc` and the DuckDB line that opens the lake.
# Run it again to rebuild, reinstall and rerun; `kind delete cluster --name districtlake`
# removes everything.
#
# Needs docker, kind, kubectl and curl (7.75 or later, for --aws-sigv4) on PATH; helm comes
# from bin/helm (make bin/helm) unless HELM is set. MINIO_IMAGE=<an existing MinIO image> skips
# building MinIO.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLUSTER=${KIND_CLUSTER_NAME:-districtlake}
DOCKER=${DOCKER:-docker}
KIND=${KIND:-kind}
KUBECTL=${KUBECTL:-kubectl}
HELM=${HELM:-$ROOT/bin/helm}
IMAGE_REPO=${IMAGE_REPO:-districtlake}
IMAGE_TAG=${IMAGE_TAG:-dev}
MINIO_IMAGE=${MINIO_IMAGE:-}
SYSTEM_NS=districtlake-system
SAMPLES_NS=districtlake-samples
BUCKET=districtlake
TIMEOUT=${TIMEOUT:-300s}

log() { printf '%s kind-up: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

for tool in "$DOCKER" "$KIND" "$KUBECTL" curl; do
	command -v "$tool" >/dev/null || die "$tool is not on PATH"
done
if [[ ! -x $HELM ]]; then
	log "building helm into bin/ (make bin/helm)"
	make -C "$ROOT" bin/helm >/dev/null
fi
"$DOCKER" info >/dev/null 2>&1 || die "docker is not running"

# kubectl against the kind cluster only, whatever the current context is.
k() { "$KUBECTL" --context "kind-$CLUSTER" "$@"; }
h() { "$HELM" --kube-context "kind-$CLUSTER" "$@"; }

# ---- cluster and images ------------------------------------------------------------------
if "$KIND" get clusters 2>/dev/null | grep -x "$CLUSTER" >/dev/null; then
	log "kind cluster $CLUSTER exists; reusing it"
else
	log "creating kind cluster $CLUSTER"
	"$KIND" create cluster --name "$CLUSTER" --wait 120s
fi

version=$(git -C "$ROOT" describe --tags --always --dirty 2>/dev/null || echo dev)
revision=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
log "building $IMAGE_REPO:$IMAGE_TAG ($version)"
"$DOCKER" build -t "$IMAGE_REPO:$IMAGE_TAG" --build-arg VERSION="$version" --build-arg REVISION="$revision" "$ROOT"
"$KIND" load docker-image "$IMAGE_REPO:$IMAGE_TAG" --name "$CLUSTER"

if [[ -z $MINIO_IMAGE ]]; then
	MINIO_IMAGE=districtlake-minio:dev
	log "building $MINIO_IMAGE from hack/minio (a few minutes the first time)"
	"$DOCKER" build -f "$ROOT/hack/kind/minio.Dockerfile" -t "$MINIO_IMAGE" "$ROOT/hack/minio"
	"$KIND" load docker-image "$MINIO_IMAGE" --name "$CLUSTER"
fi

# ---- MinIO -------------------------------------------------------------------------------
k create namespace "$SYSTEM_NS" --dry-run=client -o yaml | k apply -f - >/dev/null
k label namespace "$SYSTEM_NS" pod-security.kubernetes.io/enforce=restricted --overwrite >/dev/null
if ! k -n "$SYSTEM_NS" get secret minio-root >/dev/null 2>&1; then
	k -n "$SYSTEM_NS" create secret generic minio-root --from-literal=user=districtlake \
		--from-literal=password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')" >/dev/null
fi
MINIO_USER=$(k -n "$SYSTEM_NS" get secret minio-root -o jsonpath='{.data.user}' | base64 -d)
MINIO_PASSWORD=$(k -n "$SYSTEM_NS" get secret minio-root -o jsonpath='{.data.password}' | base64 -d)

log "starting MinIO in $SYSTEM_NS"
k apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: minio
  namespace: $SYSTEM_NS
  labels: {app.kubernetes.io/name: minio, app.kubernetes.io/part-of: districtlake-quickstart}
spec:
  replicas: 1
  selector:
    matchLabels: {app.kubernetes.io/name: minio}
  template:
    metadata:
      labels: {app.kubernetes.io/name: minio}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        fsGroup: 65532
        seccompProfile: {type: RuntimeDefault}
      containers:
      - name: minio
        image: $MINIO_IMAGE
        imagePullPolicy: IfNotPresent
        args: [server, /data, --address, ":9000", --certs-dir, /tmp/certs, --quiet]
        env:
        - {name: MINIO_ROOT_USER, valueFrom: {secretKeyRef: {name: minio-root, key: user}}}
        - {name: MINIO_ROOT_PASSWORD, valueFrom: {secretKeyRef: {name: minio-root, key: password}}}
        - {name: MINIO_BROWSER, value: "off"}
        - {name: MINIO_UPDATE, value: "off"}
        ports:
        - {name: s3, containerPort: 9000}
        readinessProbe:
          httpGet: {path: /minio/health/ready, port: s3}
          periodSeconds: 2
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
        volumeMounts:
        - {name: data, mountPath: /data}
        - {name: tmp, mountPath: /tmp}
      volumes:
      - {name: data, emptyDir: {}}
      - {name: tmp, emptyDir: {}}
---
apiVersion: v1
kind: Service
metadata:
  name: minio
  namespace: $SYSTEM_NS
spec:
  selector: {app.kubernetes.io/name: minio}
  ports:
  - {name: s3, port: 9000, targetPort: s3}
YAML
k -n "$SYSTEM_NS" rollout status deployment/minio --timeout "$TIMEOUT"

# The bucket, made through a port-forward with curl's S3 signing.
port=$(( 20000 + RANDOM % 20000 ))
k -n "$SYSTEM_NS" port-forward svc/minio "$port:9000" >/dev/null 2>&1 &
forward=$!
trap 'kill "$forward" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
	curl -fsS "http://127.0.0.1:$port/minio/health/live" >/dev/null 2>&1 && break
	sleep 0.2
done
code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT --user "$MINIO_USER:$MINIO_PASSWORD" \
	--aws-sigv4 "aws:amz:us-east-1:s3" "http://127.0.0.1:$port/$BUCKET")
case $code in
200) log "made bucket $BUCKET" ;;
409) log "bucket $BUCKET exists" ;;
*) die "making bucket $BUCKET answered HTTP $code" ;;
esac
kill "$forward" 2>/dev/null || true

# ---- districtlake --------------------------------------------------------------------------
log "installing the chart"
h upgrade --install districtlake "$ROOT/charts/districtlake" --namespace "$SYSTEM_NS" \
	--set image.repository="$IMAGE_REPO" --set image.tag="$IMAGE_TAG" --set image.pullPolicy=Never \
	--set "egress.allowHosts={minio.$SYSTEM_NS.svc}" \
	--wait --timeout "$TIMEOUT"
# A rebuilt image under the same tag needs new pods.
k -n "$SYSTEM_NS" rollout restart deployment/districtlake-manager >/dev/null
k -n "$SYSTEM_NS" rollout status deployment/districtlake-manager --timeout "$TIMEOUT"

log "applying config/samples"
k create namespace "$SAMPLES_NS" --dry-run=client -o yaml | k apply -f - >/dev/null
k label namespace "$SAMPLES_NS" pod-security.kubernetes.io/enforce=restricted --overwrite >/dev/null
k -n "$SAMPLES_NS" create secret generic lake-credentials --from-literal=accessKeyID="$MINIO_USER" \
	--from-literal=secretAccessKey="$MINIO_PASSWORD" --dry-run=client -o yaml | k apply -f - >/dev/null
k apply -k "$ROOT/config/samples"
k -n "$SAMPLES_NS" wait lake --all --for=condition=Ready --timeout "$TIMEOUT"

run=$(date +%s)
log "landing every SharedSource (run-now $run)"
k -n "$SAMPLES_NS" annotate shs --all "districtlake.io/run-now=$run" --overwrite >/dev/null
k -n "$SAMPLES_NS" wait shs --all --for=jsonpath="{.status.lastRunNow}=$run" --timeout "$TIMEOUT" >/dev/null
k -n "$SAMPLES_NS" wait shs --all --for=condition=Ready --timeout "$TIMEOUT"
log "running every DistrictSource (run-now $run)"
k -n "$SAMPLES_NS" annotate ds --all "districtlake.io/run-now=$run" --overwrite >/dev/null
k -n "$SAMPLES_NS" wait ds --all --for=jsonpath="{.status.lastRunNow}=$run" --timeout "$TIMEOUT" >/dev/null
k -n "$SAMPLES_NS" wait ds --all --for=condition=Ready --timeout "$TIMEOUT"
log "running every StateComparison"
k -n "$SAMPLES_NS" annotate sc --all "districtlake.io/run-now=$run" --overwrite >/dev/null
k -n "$SAMPLES_NS" wait sc --all --for=jsonpath="{.status.lastRunNow}=$run" --timeout "$TIMEOUT" >/dev/null
k -n "$SAMPLES_NS" wait sc --all --for=condition=Ready --timeout "$TIMEOUT"

echo
k -n "$SAMPLES_NS" get dsrc,sc
cat <<MSG

Open the lake in DuckDB (the port-forward runs until you stop it):

  kubectl --context kind-$CLUSTER -n $SYSTEM_NS port-forward svc/minio 9000:9000 &
  AWS_ENDPOINT_URL=http://localhost:9000 AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=$MINIO_USER \\
    AWS_SECRET_ACCESS_KEY="\$(kubectl --context kind-$CLUSTER -n $SYSTEM_NS get secret minio-root -o jsonpath='{.data.password}' | base64 -d)" \\
    duckdb -init <(go run ./cmd/districtlake sql --lake s3://$BUCKET/samples)

Then, for example: SELECT * FROM comparison;
MSG
