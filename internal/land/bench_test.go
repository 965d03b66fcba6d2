package land_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/districtlake/districtlake/internal/ingest/crdcgen"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/land"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/source"
	"github.com/districtlake/districtlake/internal/testenv"
)

// BenchmarkDistrictReadFromMinIO is one district's read of its rows from a national
// School Support file landed in MinIO (a real MinIO process), at the national size
// (100,000 schools of 13,000 districts) and 4x (400,000 of 52,000): read its state's
// index (about 30 bytes per district of the state), then its own range of the state's
// object, to the end, through a new store as a Job does. The landing is setup, not timed.
// Targets: at most 50 ms and 64 MiB per read, flat from 1x to 4x.
func BenchmarkDistrictReadFromMinIO(b *testing.B) {
	ctx := context.Background()
	m := testenv.StartMinIO(b)
	m.CreateBucket(b, "districtlake")
	l, env := m.Lake("districtlake", "bench")
	store, err := lake.New(ctx, l, env)
	if err != nil {
		b.Fatal(err)
	}
	for _, scale := range []int{1, 4} {
		b.Run(fmt.Sprintf("%dx", scale), func(b *testing.B) {
			o := crdcgen.Defaults()
			o.Schools, o.Districts = 100_000*scale, 13_000*scale
			path := filepath.Join(b.TempDir(), "School Support.csv")
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			st, err := crdcgen.Generate(f, o)
			if err == nil {
				err = f.Close()
			}
			if err != nil {
				b.Fatal(err)
			}
			srv := serveFile(b, path)
			p := &plan.Land{
				Version: plan.Version, Kind: plan.KindLand, Namespace: "bench", Name: fmt.Sprintf("national-%dx", scale),
				Source:     plan.Source{Name: "national", Format: "crdc", HTTP: &plan.HTTP{URL: srv.URL + "/support.csv"}},
				SchoolYear: "2020-21", Lake: l,
			}
			sum, err := land.Run(ctx, p, store, env, land.Options{TempDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			src := landedSource(l, p, sum.Artifact, o.LEAID, "crdc")
			read := func() (string, error) {
				stream, err := source.Open(ctx, src, env)
				if err != nil {
					return "", err
				}
				defer stream.Close()
				body, err := io.ReadAll(stream)
				return string(body), err
			}
			body, err := read()
			if err != nil {
				b.Fatal(err)
			}
			if n := strings.Count(body, ","+o.LEAID+","); n != st.DistrictRows {
				b.Fatalf("the district read %d of its %d rows", n, st.DistrictRows)
			}
			b.ReportMetric(float64(st.Bytes)/1e6, "nationalMB")
			b.ResetTimer()
			for b.Loop() {
				if _, err := read(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
