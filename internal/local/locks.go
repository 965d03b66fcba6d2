package local

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/lakelock"
	"github.com/districtlake/districtlake/internal/plan"
)

// lockFileLake holds a file lake for the run (see package lakelock): runs on one lake share
// it, and a run alone on it first removes the temporary files of killed runs. An s3 lake
// has no lock (nil).
func lockFileLake(ctx context.Context, l plan.Lake, out io.Writer) (*lakelock.Lake, error) {
	if l.Type != plan.LakeFile {
		return nil, nil
	}
	root := filepath.Join(l.Path, filepath.FromSlash(strings.Trim(l.Prefix, "/")))
	locks, err := lakelock.Open(ctx, root, lake.TempPrefix)
	if err != nil {
		return nil, err
	}
	if locks.Swept > 0 {
		fmt.Fprintf(out, "Removed %d temporary files left by an interrupted run\n", locks.Swept)
	}
	return locks, nil
}

// ingestLocked runs ingest while holding the district's lock, so two local runs of one
// district on one file lake take turns and never mix their files.
func ingestLocked(ctx context.Context, locks *lakelock.Lake, ds *v1alpha1.DistrictSource, ingest func() DistrictResult) DistrictResult {
	if locks == nil {
		return ingest()
	}
	release, err := locks.District(ctx, string(ds.Spec.District.State), ds.Spec.District.NCESID)
	if err != nil {
		return DistrictResult{Namespace: ds.Namespace, Name: ds.Name, District: ds.Spec.District.Name, Err: err}
	}
	defer release()
	return ingest()
}
