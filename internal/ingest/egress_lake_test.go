package ingest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/districtlake/districtlake/internal/egress"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/summary"
)

// TestLakeRefusedByEgressPolicy: a Job whose lake endpoint the egress policy refuses
// fails with the lake's own error, which names the object, the lake and the refused
// address, not the Parquet writer's "failed to write magic number"; nothing is published.
func TestLakeRefusedByEgressPolicy(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	store, err := lake.New(ctx, w.lake, w.env, lake.WithEgress(egress.Restricted(nil, nil)))
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, w.store)
	src := plan.Source{Name: "contracts", Dataset: "contracts", Format: "csv", Inline: inline("agency_name,start_date\nMadison Police Department,2023-07-01\n")}
	sum, err := Run(ctx, newPlan(w.lake, wiLEA, wiName, "WI", src), store, w.env, testOptions("20261126T130501Z-egr000"))
	if err == nil {
		t.Fatal("the run succeeded; want the egress policy's refusal")
	}
	const key = "contracts/state=WI/district=5508520/data.parquet"
	want := "writing " + key + ": uploading s3://lake/districtlake/" + key + " at http://" + w.minio.Endpoint +
		": the egress policy refused to connect to 127.0.0.1: a loopback address; the cluster admin may allow it by CIDR or host (--egress-allow-cidrs, --egress-allow-hosts)"
	if err.Error() != want {
		t.Fatalf("error\n got %s\nwant %s", err, want)
	}
	if !errors.Is(err, egress.ErrRefused) {
		t.Fatalf("error %v does not match egress.ErrRefused", err)
	}
	if sum.Outcome != summary.Failed || strings.Contains(sum.Message, "magic") {
		t.Fatalf("summary %+v, want Failed with the lake's error", sum)
	}
	assertUnchanged(t, w.store, before)
}
