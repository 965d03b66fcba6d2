package controller

import (
	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/summary"
)

// setSourceStatus copies what a successful run did with each source into status: rows, the
// published object and its checksum, and the bytes read with their checksum.
func setSourceStatus(ds *v1alpha1.DistrictSource, s summary.Summary) {
	objects := map[string]summary.Object{}
	for _, o := range s.Objects {
		objects[o.Key] = o
	}
	out := make([]v1alpha1.SourceStatus, 0, len(s.Sources))
	for _, src := range s.Sources {
		out = append(out, v1alpha1.SourceStatus{
			Name:         src.Name,
			Dataset:      v1alpha1.Dataset(src.Dataset),
			Bytes:        src.Bytes,
			SHA256:       src.SHA256,
			Rows:         src.Rows,
			ObjectKey:    src.ObjectKey,
			ObjectSHA256: objects[src.ObjectKey].SHA256,
		})
	}
	ds.Status.Sources = out
}
