package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/districtlake/districtlake/config/crd"
)

// folderOfDistricts writes a folder like hack/crdcgen -folder's: a Lake, a SharedSource and
// districts DistrictSources reading it, one file of them per state.
func folderOfDistricts(b *testing.B, districts int) string {
	b.Helper()
	dir := b.TempDir()
	shared := `apiVersion: districtlake.io/v1alpha1
kind: Lake
metadata: {name: national, namespace: bench}
spec: {endpoint: "minio:9000", bucket: districtlake, credentialsSecretRef: {name: lake-credentials}}
---
apiVersion: districtlake.io/v1alpha1
kind: SharedSource
metadata: {name: national-support, namespace: bench}
spec:
  http: {url: "http://127.0.0.1:8080/support.csv"}
  format: crdc
  schoolYear: "2020-21"
  lakeRef: {name: national}
  schedule: "@weekly"
`
	if err := os.WriteFile(filepath.Join(dir, "shared.yaml"), []byte(shared), 0o644); err != nil {
		b.Fatal(err)
	}
	states := []struct{ code, fips string }{{"CA", "06"}, {"IL", "17"}, {"NY", "36"}, {"TX", "48"}, {"WI", "55"}}
	per := make([]strings.Builder, len(states))
	for i := range districts {
		st := states[i%len(states)]
		id := fmt.Sprintf("%s%05d", st.fips, i)
		fmt.Fprintf(&per[i%len(states)], `---
apiVersion: districtlake.io/v1alpha1
kind: DistrictSource
metadata: {name: %s-%s, namespace: bench}
spec:
  district: {ncesId: "%s", name: "District %s", state: %s}
  lakeRef: {name: national}
  schedule: "@weekly"
  sources:
  - name: crdc-support
    dataset: staffing
    schoolYear: "2020-21"
    sharedSourceRef: {name: national-support}
`, strings.ToLower(st.code), id, id, id, st.code)
	}
	for i, st := range states {
		name := filepath.Join(dir, "districts-"+strings.ToLower(st.code)+".yaml")
		if err := os.WriteFile(name, []byte(per[i].String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// BenchmarkLoadFolder13000 reads and checks a folder of 13,000 DistrictSources, the
// first part of a national run (`districtlake run -f`, `districtlake validate -f`).
func BenchmarkLoadFolder13000(b *testing.B) {
	dir := folderOfDistricts(b, 13000)
	schemas, err := NewSchemas(crd.Bases())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		f, err := NewLoader(schemas).Load(context.Background(), dir)
		if err != nil {
			b.Fatal(err)
		}
		if err := f.Err(); err != nil || len(f.DistrictSources) != 13000 {
			b.Fatalf("%d DistrictSources loaded: %v", len(f.DistrictSources), err)
		}
	}
}
