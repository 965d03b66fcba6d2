package local

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/guard"
)

// checkGuards applies the rules of package guard to the folder, as the controller applies
// them in a cluster: a source header reads only a Secret labelled as a source credential
// (when the Secret is in the folder) and never a Lake's credentials, and one DistrictSource
// per district and Lake (the first in the folder wins).
func checkGuards(f *Folder) {
	lakes := make([]v1alpha1.Lake, 0, len(f.Lakes))
	for _, it := range f.Lakes {
		lakes = append(lakes, *it.Object)
	}
	first := map[guard.DistrictKey]*v1alpha1.DistrictSource{}
	for _, it := range f.DistrictSources {
		ds := it.Object
		report := reporter(f, it.Origin, "DistrictSource", ds.Namespace, ds.Name)
		for i, s := range ds.Spec.Sources {
			if s.HTTP == nil {
				continue
			}
			for j, h := range s.HTTP.Headers {
				var labels map[string]string
				sec := f.Secret(ds.Namespace, h.ValueFrom.Name)
				if sec != nil {
					labels = sec.Labels
				}
				if err := guard.HeaderSecret(ds.Namespace, h.ValueFrom.Name, labels, sec != nil, lakes); err != nil {
					path := field.NewPath("spec", "sources").Index(i).Child("http", "headers").Index(j).Child("valueFrom", "name")
					report(field.ErrorList{field.Forbidden(path, err.Error())})
				}
			}
		}
		key := guard.KeyOf(ds)
		if prev, ok := first[key]; ok {
			report(field.ErrorList{field.Invalid(field.NewPath("spec", "district", "ncesId"), ds.Spec.District.NCESID, guard.DuplicateError(ds, prev).Error())})
			continue
		}
		first[key] = ds
	}
}

// CheckJobImages refuses, as the controller does (Stalled, ImageNotAllowed), every
// DistrictSource and StateComparison whose spec.job.image is not in allowed: the manager's
// --allowed-job-images, which `districtlake validate` takes as its own flag. A local run
// starts no Job, so Load leaves images alone and only validate calls this.
func (f *Folder) CheckJobImages(allowed guard.JobImages) {
	path := field.NewPath("spec", "job", "image")
	check := func(o Origin, kind, ns, name string, job *v1alpha1.JobTemplate) {
		if job == nil {
			return
		}
		if err := guard.JobImage(job.Image, allowed); err != nil {
			reporter(f, o, kind, ns, name)(field.ErrorList{field.Forbidden(path, err.Error())})
		}
	}
	for _, it := range f.DistrictSources {
		check(it.Origin, "DistrictSource", it.Object.Namespace, it.Object.Name, it.Object.Spec.Job)
	}
	for _, it := range f.StateComparisons {
		check(it.Origin, "StateComparison", it.Object.Namespace, it.Object.Name, it.Object.Spec.Job)
	}
	sortProblems(f.Problems)
	for i := range f.Found {
		f.Found[i].Errors = 0
	}
	countErrors(f)
}
