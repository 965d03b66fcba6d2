//go:build tools

// Package tools pins the MinIO server that hack/minio.sh builds, so that
// go mod tidy keeps its dependencies in go.mod and go.sum.
package tools

import _ "github.com/minio/minio"
