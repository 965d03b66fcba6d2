package testenv

import "testing"

// Server names a server or program that a test runs against.
type Server string

// The servers tests run against.
const (
	// ServerEnvtest is a kube-apiserver and etcd (KUBEBUILDER_ASSETS or <repo>/bin/k8s).
	ServerEnvtest Server = "kube-apiserver and etcd (envtest)"
	// ServerMinIO is the MinIO server (DISTRICTLAKE_MINIO or <repo>/bin/minio).
	ServerMinIO Server = "MinIO"
	// ServerDuckDB is the DuckDB command line (DISTRICTLAKE_DUCKDB or <repo>/bin/duckdb).
	ServerDuckDB Server = "DuckDB"
	// ServerHelm is the helm command (DISTRICTLAKE_HELM or <repo>/bin/helm).
	ServerHelm Server = "helm"
	// ServerChromium is a headless Chromium (DISTRICTLAKE_CHROMIUM or /usr/bin/chromium).
	ServerChromium Server = "Chromium"
	// ServerCluster is the local single-node cluster of hack/cluster/up.sh.
	ServerCluster Server = "the local cluster"
)

// Needs marks t as needing server. Under -short (the fast tier, `make test-unit`) it skips
// t with a message naming the server; otherwise it does nothing, and the test goes on to
// look the server up and fails when it is missing: tests never skip for a missing server.
func Needs(t testing.TB, server Server) {
	t.Helper()
	if msg := shortSkip(testing.Short(), server); msg != "" {
		t.Skip(msg)
	}
}

// shortSkip is the message Needs skips with, or "" when the test runs.
func shortSkip(short bool, server Server) string {
	if !short {
		return ""
	}
	return "needs " + string(server) + ": skipped under -short (make test-unit); make test runs it"
}
