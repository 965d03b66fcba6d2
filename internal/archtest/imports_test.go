package archtest

import (
	"bufio"
	"bytes"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/districtlake/districtlake"

// dataSide are the packages (and their subpackages) that read sources, write the lake and
// compare districts, and the plan that tells them what to do.
var dataSide = []string{
	"./internal/plan/...",
	"./internal/source/...",
	"./internal/ingest/...",
	"./internal/compare/...",
	"./internal/report/...",
	"./internal/dataset/...",
	"./internal/lake/...",
	"./internal/summary/...",
	"./internal/land/...",
	"./internal/smallparquet/...",
}

// forbidden says whether the data side may not depend on a package: Kubernetes's own,
// controller-runtime and its kin, and the custom resources' types.
func forbidden(pkg string) bool {
	return strings.HasPrefix(pkg, "k8s.io/") || strings.HasPrefix(pkg, "sigs.k8s.io/") ||
		pkg == module+"/api" || strings.HasPrefix(pkg, module+"/api/")
}

// TestDataSideImportsNoKubernetes fails when `go list -deps` of the data side shows a
// Kubernetes package or api/v1alpha1, naming the package of this module that brings it in.
func TestDataSideImportsNoKubernetes(t *testing.T) {
	args := append([]string{"list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}"}, dataSide...)
	cmd := exec.Command("go", args...)
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var bad []string
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		seen++
		pkg := fields[0]
		if forbidden(pkg) || !strings.HasPrefix(pkg, module+"/") {
			continue
		}
		for _, imp := range fields[1:] {
			if forbidden(imp) {
				bad = append(bad, pkg+" imports "+imp)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if seen < len(dataSide) {
		t.Fatalf("go list printed %d packages; the data side has at least %d", seen, len(dataSide))
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("the data side depends on Kubernetes (keep it in internal/render, internal/controller, internal/local):\n  %s",
			strings.Join(bad, "\n  "))
	}
}
