package ingest

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/districtlake/districtlake/internal/ingest/crdcgen"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
)

// TestIngestCRDCMembersOfAZip reads CRDC school files out of a published-like ZIP (and
// one as .csv.gz) over http, and checks that it writes the very files the plain CSVs
// give, having fetched a small part of the archive.
func TestIngestCRDCMembersOfAZip(t *testing.T) {
	o := crdcgen.Defaults()
	o.Schools, o.Districts, o.LEAID, o.DistrictName, o.Seed = 3000, 60, wiLEA, wiName, 11
	o.Year = "2021-22"
	web := t.TempDir()
	files := map[crdcgen.Kind][]byte{}
	for _, k := range []crdcgen.Kind{crdcgen.Support, crdcgen.Enrollment, crdcgen.Arrests} {
		o.Kind = k
		path, _ := writeCRDC(t, t.TempDir(), o)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files[k] = b
		writeFile(t, filepath.Join(web, string(k)+".csv"), b)
	}
	filler := make([]byte, 8<<20)
	_, _ = rand.Read(filler)
	archive := zipOf(t, map[string][]byte{
		"2021-22 Public-Use Files/Data/SCH/CRDC/CSV/School Support.csv":          files[crdcgen.Support],
		"2021-22 Public-Use Files/Data/SCH/CRDC/CSV/Harassment and Bullying.csv": filler,
		"2021-22 Public-Use Files/Data/SCH/CRDC/CSV/Enrollment.csv":              files[crdcgen.Enrollment],
	})
	writeFile(t, filepath.Join(web, "2021-22-crdc-data.zip"), archive)
	gz := gzipOf(t, files[crdcgen.Arrests])
	writeFile(t, filepath.Join(web, "Referrals and Arrests.csv.gz"), gz)
	srv := httptest.NewServer(http.FileServer(http.Dir(web))) // ranges, Last-Modified, no ETag
	defer srv.Close()

	source := func(name, ds, url, member string) plan.Source {
		return plan.Source{Name: name, Dataset: ds, Format: "crdc", SchoolYear: "2021-22", HTTP: &plan.HTTP{URL: srv.URL + "/" + url, Member: member}}
	}
	const dir = "2021-22 Public-Use Files/Data/SCH/CRDC/CSV/"
	plain := []plan.Source{
		source("crdc-support", "staffing", "support.csv", ""),
		source("crdc-enrollment", "staffing", "enrollment.csv", ""),
		source("crdc-arrests", "incidents", "arrests.csv", ""),
	}
	packed := []plan.Source{
		source("crdc-support", "staffing", "2021-22-crdc-data.zip", dir+"School Support.csv"),
		source("crdc-enrollment", "staffing", "2021-22-crdc-data.zip", dir+"Enrollment.csv"),
		source("crdc-arrests", "incidents", "Referrals%20and%20Arrests.csv.gz", ""),
	}
	want, _ := runToFileLake(t, plain)
	got, m := runToFileLake(t, packed)
	for _, key := range []string{
		"staffing/state=WI/school_year=2021-22/district=5508520/data.parquet",
		"incidents/state=WI/school_year=2021-22/district=5508520/data.parquet",
	} {
		if want[key] == nil || !bytes.Equal(got[key], want[key]) {
			t.Errorf("%s: read out of the archive (%d bytes) differs from read from the plain CSV (%d bytes)", key, len(got[key]), len(want[key]))
		}
	}

	bySource := map[string]ManifestSource{}
	for _, s := range m.Sources {
		bySource[s.Name] = s
	}
	for name, k := range map[string]crdcgen.Kind{"crdc-support": crdcgen.Support, "crdc-enrollment": crdcgen.Enrollment} {
		s := bySource[name]
		t.Logf("%s: fetched %d bytes of a %d-byte archive for a %d-byte member", name, s.FetchedBytes, len(archive), s.Bytes)
		if s.Member != dir+map[crdcgen.Kind]string{crdcgen.Support: "School Support.csv", crdcgen.Enrollment: "Enrollment.csv"}[k] ||
			s.Bytes != int64(len(files[k])) || s.SHA256 != sha256Hex(string(files[k])) || s.Spooled {
			t.Errorf("%s: manifest %+v", name, s)
		}
		if s.FetchedBytes <= 0 || s.FetchedBytes*4 > int64(len(archive)) {
			t.Errorf("%s: fetched %d bytes of a %d-byte archive", name, s.FetchedBytes, len(archive))
		}
	}
	if s := bySource["crdc-arrests"]; !s.Gzip || s.FetchedBytes != int64(len(gz)) || s.Bytes != int64(len(files[crdcgen.Arrests])) || s.Member != "" {
		t.Errorf("crdc-arrests: manifest %+v (gzip file of %d bytes)", s, len(gz))
	}
}

// runToFileLake runs an ingest of sources into a new file lake with a fixed run id and
// returns its objects and manifest.
func runToFileLake(t *testing.T, sources []plan.Source) (map[string][]byte, Manifest) {
	t.Helper()
	l, store := fileLakeAt(t, plan.Lake{Type: plan.LakeFile, Path: t.TempDir()})
	opts := testOptions("20261126T130501Z-0a1b2c")
	opts.TempDir = t.TempDir()
	sum, err := Run(context.Background(), newPlan(l, wiLEA, wiName, "WI", sources...), store, lake.MapEnv(nil), opts)
	if err != nil {
		t.Fatal(err)
	}
	objects := snapshot(t, store)
	var m Manifest
	if err := json.Unmarshal(objects[sum.Manifest], &m); err != nil {
		t.Fatal(err)
	}
	return objects, m
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// zipOf makes a ZIP archive of deflated members, in name order.
func zipOf(t *testing.T, members map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(members)) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err == nil {
			_, err = io.Copy(w, bytes.NewReader(members[name]))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipOf(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
