# syntax=docker/dockerfile:1
# The districtlake image for users and release builds with Docker: one static binary on a
# distroless base, run as the non-root user 65532. Machines without a Docker daemon build the
# same image with `make image` (hack/image).
#
#   docker build -t districtlake:dev --build-arg VERSION=v0.1.0 .

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY internal/ internal/
# The CRDs and the samples are embedded in the binary (validate, run).
COPY config/crd/ config/crd/
COPY config/samples/ config/samples/
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X github.com/districtlake/districtlake/internal/cli.version=${VERSION}" \
      -o /out/districtlake ./cmd/districtlake

FROM gcr.io/distroless/static:nonroot
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.source="https://github.com/districtlake/districtlake" \
      org.opencontainers.image.title="districtlake" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /out/districtlake /districtlake
USER 65532:65532
ENTRYPOINT ["/districtlake"]
