package ingest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/districtlake/districtlake/internal/ingest/crdcgen"
	"github.com/districtlake/districtlake/internal/plan"
)

// benchCRDC ingests a generated School Support file (file source, file lake) b.N times.
func benchCRDC(b *testing.B, schools, districts int) {
	o := crdcgen.Defaults()
	o.Schools, o.Districts, o.LEAID, o.DistrictName = schools, districts, wiLEA, wiName
	path, st := writeCRDC(b, b.TempDir(), o)
	src := plan.Source{Name: "crdc-support", Dataset: "staffing", Format: "crdc", SchoolYear: "2020-21", File: &plan.File{Path: path}}
	b.SetBytes(st.Bytes)
	b.ReportAllocs()
	rows := int64(0)
	for b.Loop() {
		l := plan.Lake{Type: plan.LakeFile, Path: filepath.Join(b.TempDir(), "lake")}
		_, store := fileLakeAt(b, l)
		sum, err := Run(context.Background(), newPlan(l, wiLEA, wiName, "WI", src), store, nil, Options{})
		if err != nil {
			b.Fatal(err)
		}
		rows = sum.Objects[0].Rows
		os.RemoveAll(l.Path)
	}
	if rows != int64(st.DistrictRows) {
		b.Fatalf("wrote %d rows, want %d", rows, st.DistrictRows)
	}
	b.ReportMetric(float64(st.Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkIngestCRDCWholeFile: 100,000 schools of one district, every row kept.
func BenchmarkIngestCRDCWholeFile(b *testing.B) { benchCRDC(b, 100000, 1) }

// BenchmarkIngestCRDCOneDistrict: 100,000 schools of 13,000 districts, one district kept.
func BenchmarkIngestCRDCOneDistrict(b *testing.B) { benchCRDC(b, 100000, 13000) }

// BenchmarkIngestCRDCOneDistrict4x: the national file at four times the size.
func BenchmarkIngestCRDCOneDistrict4x(b *testing.B) { benchCRDC(b, 400000, 52000) }
