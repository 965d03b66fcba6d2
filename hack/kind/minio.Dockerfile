# syntax=docker/dockerfile:1
# The MinIO server hack/kind-up.sh runs in the kind cluster, built from the same pinned module
# as the tests' bin/minio (hack/minio/go.mod): MinIO no longer publishes community images.
#
#   docker build -f hack/kind/minio.Dockerfile -t districtlake-minio:dev hack/minio

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum tools.go ./
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -mod=mod -trimpath \
      -ldflags "-s -w -X github.com/minio/minio/cmd.MinioReleaseBaseURL=http://127.0.0.1:9/ -X github.com/minio/minio/cmd.MinioReleaseURL=http://127.0.0.1:9/" \
      -o /out/minio github.com/minio/minio

FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/minio /minio
USER 65532:65532
ENTRYPOINT ["/minio"]
