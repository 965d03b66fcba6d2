// Command crdcgen writes a synthetic CRDC school file (School Support, Enrollment or
// Referrals and Arrests; for 2015-16 the one wide School Data file) in the layout the
// collection of -year published, with made-up numbers, for tests and benchmarks:
//
//	go run ./hack/crdcgen -year 2020-21 -kind support -schools 100000 -districts 13000 -leaid 5508520 -o support.csv
//
// With -folder it also writes, for `districtlake run -f`, a folder that reads the file
// through one SharedSource fetched from -url: a Lake, the SharedSource, and one
// DistrictSource per district of the file (one YAML file per state):
//
//	go run ./hack/crdcgen -schools 100000 -districts 13000 -o support.csv -folder national -url http://127.0.0.1:8080/support.csv
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/districtlake/districtlake/internal/ingest/crdcgen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "crdcgen:", err)
		os.Exit(1)
	}
}

func run() error {
	o := crdcgen.Defaults()
	kind := flag.String("kind", string(o.Kind), "file to write: support | enrollment | arrests")
	flag.IntVar(&o.Schools, "schools", o.Schools, "number of school rows")
	flag.IntVar(&o.Districts, "districts", o.Districts, "number of districts the schools belong to")
	flag.StringVar(&o.LEAID, "leaid", o.LEAID, "7-digit LEAID of the district that gets its share of schools")
	flag.StringVar(&o.DistrictName, "name", o.DistrictName, "name of that district")
	flag.Uint64Var(&o.Seed, "seed", o.Seed, "random seed (the same seed gives the same schools in every kind)")
	flag.BoolVar(&o.BOM, "bom", o.BOM, "write a UTF-8 byte order mark")
	flag.BoolVar(&o.CRLF, "crlf", o.CRLF, "end lines with CRLF")
	flag.StringVar(&o.Year, "year", o.Year, "collection whose layout to write: 2015-16 (one wide School Data file, whatever -kind) | 2017-18 | 2020-21 | 2021-22")
	flag.BoolVar(&o.Damage, "damage", o.Damage, "write the documented damage of the 2015-16 file: LEAIDs without their leading zero, COMBOKEYs in scientific notation")
	flag.BoolVar(&o.Windows1252, "windows-1252", o.Windows1252, "write accented school names in Windows-1252")
	flag.Float64Var(&o.ReserveRate, "reserve", o.ReserveRate, "share of cells holding a reserve code")
	flag.Float64Var(&o.JJRate, "jj", o.JJRate, "share of schools that are justice facilities (JJ=Yes)")
	out := flag.String("o", "", "output file (stdout when empty)")
	folder := flag.String("folder", "", "also write a folder of one SharedSource reading the file from -url and a DistrictSource per district")
	url := flag.String("url", "", "where the folder's SharedSource fetches the file (http or https URL)")
	flag.Parse()
	o.Kind = crdcgen.Kind(*kind)
	if *folder != "" {
		if *url == "" {
			return fmt.Errorf("-folder needs -url")
		}
		n, err := writeFolder(*folder, *url, o)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "crdcgen: wrote %d DistrictSources and their SharedSource to %s\n", n, *folder)
	}

	w := os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	st, err := crdcgen.Generate(w, o)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := w.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", *out, err)
		}
	}
	fmt.Fprintf(os.Stderr, "crdcgen: wrote %d rows (%d of district %s), %d bytes\n", st.Rows, st.DistrictRows, o.LEAID, st.Bytes)
	return nil
}

// datasets is the dataset each kind of file feeds.
var datasets = map[crdcgen.Kind]string{crdcgen.Support: "staffing", crdcgen.Enrollment: "staffing", crdcgen.Arrests: "incidents"}

// writeFolder writes dir/shared.yaml (a Lake and the SharedSource) and one file of
// DistrictSources per state, and returns the number of DistrictSources.
func writeFolder(dir, url string, o crdcgen.Options) (int, error) {
	ds, err := crdcgen.Districts(o)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	shared := "national-" + string(o.Kind)
	head := fmt.Sprintf(`# Made by hack/crdcgen: a national CRDC %[1]s file (%[2]s layout) read by every district.
apiVersion: districtlake.io/v1alpha1
kind: Lake
metadata: {name: national, namespace: bench}
spec: {endpoint: "minio:9000", bucket: districtlake, credentialsSecretRef: {name: lake-credentials}}
---
apiVersion: districtlake.io/v1alpha1
kind: SharedSource
metadata: {name: %[3]s, namespace: bench}
spec:
  http: {url: %[4]q}
  format: crdc
  schoolYear: %[2]q
  lakeRef: {name: national}
  schedule: "@weekly"
`, o.Kind, o.Year, shared, url)
	if err := os.WriteFile(filepath.Join(dir, "shared.yaml"), []byte(head), 0o644); err != nil {
		return 0, err
	}
	type file struct {
		f *os.File
		w *bufio.Writer
	}
	files := map[string]*file{}
	var order []*file
	defer func() {
		for _, f := range order {
			f.f.Close()
		}
	}()
	for _, d := range ds {
		fw := files[d.State]
		if fw == nil {
			f, err := os.Create(filepath.Join(dir, "districts-"+strings.ToLower(d.State)+".yaml"))
			if err != nil {
				return 0, err
			}
			fw = &file{f: f, w: bufio.NewWriter(f)}
			files[d.State] = fw
			order = append(order, fw)
		}
		fmt.Fprintf(fw.w, `---
apiVersion: districtlake.io/v1alpha1
kind: DistrictSource
metadata: {name: %s-%s, namespace: bench}
spec:
  district: {ncesId: "%s", name: %q, state: %s}
  lakeRef: {name: national}
  schedule: "@weekly"
  sources:
  - name: crdc-%s
    dataset: %s
    schoolYear: %q
    sharedSourceRef: {name: %s}
`, strings.ToLower(d.State), d.LEAID, d.LEAID, d.Name, d.State, o.Kind, datasets[o.Kind], o.Year, shared)
	}
	for _, f := range order {
		if err := f.w.Flush(); err != nil {
			return 0, fmt.Errorf("writing %s: %w", f.f.Name(), err)
		}
		if err := f.f.Close(); err != nil {
			return 0, fmt.Errorf("writing %s: %w", f.f.Name(), err)
		}
	}
	order = nil
	return len(ds), nil
}
