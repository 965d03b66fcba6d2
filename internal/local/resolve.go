package local

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/render"
)

// folderResolver is a folder's render.Resolver: the folder's objects, by namespace and
// name. An object that the folder holds but that is itself invalid is not held (its own
// errors say why), and neither is a Secret the folder does not hold: a local run reads
// that Secret's values from the environment.
type folderResolver struct {
	f *Folder
	// landed is what the run landed; nil when validating (see SharedSource).
	landed *landings
}

func (r folderResolver) Lake(_ context.Context, namespace, name string) (*v1alpha1.Lake, error) {
	if lk := r.f.Lake(namespace, name); lk != nil {
		return lk, nil
	}
	return nil, r.f.absent("Lake", namespace, name)
}

func (r folderResolver) ConfigMap(_ context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	if cm := r.f.ConfigMap(namespace, name); cm != nil {
		return cm, nil
	}
	return nil, r.f.absent("ConfigMap", namespace, name)
}

func (r folderResolver) Secret(_ context.Context, namespace, name string) (*corev1.Secret, error) {
	if s := r.f.Secret(namespace, name); s != nil {
		return s, nil
	}
	return nil, render.ErrNotHeld
}

// SharedSource is the folder's SharedSource with the artifact this run landed, if any.
// Before a run (validate) it stands in an artifact, so that only existence and Lake are
// checked.
func (r folderResolver) SharedSource(_ context.Context, namespace, name string) (*v1alpha1.SharedSource, error) {
	shs := r.f.SharedSource(namespace, name)
	if shs == nil {
		return nil, r.f.absent("SharedSource", namespace, name)
	}
	out := shs.DeepCopy()
	switch {
	case r.landed == nil:
		out.Status.Artifact = &v1alpha1.SharedArtifact{Revision: "validate"}
	default:
		out.Status.Artifact = r.landed.artifacts[namespace+"/"+name]
	}
	return out, nil
}

// absent is the error for an object the folder has no valid copy of: ErrNotHeld when an
// invalid one is there, ErrNotFound when none is.
func (f *Folder) absent(kind, namespace, name string) error {
	for _, it := range f.Found {
		if it.Kind == kind && it.Namespace == namespace && it.Name == name && it.Ignored == "" {
			return render.ErrNotHeld
		}
	}
	return render.ErrNotFound
}

// checkReferences checks what the CRD schemas cannot, as the controllers do: schedules
// and time zones (render.CheckSchedule), and, by rendering each object's plan from the
// folder, that its Lakes, ConfigMaps (and their keys) and the keys of the Secrets the
// folder holds resolve in the object's namespace. It also checks the keys of each Lake's
// credentials Secret when the folder holds it.
func checkReferences(ctx context.Context, f *Folder) {
	r := folderResolver{f: f}
	spec := field.NewPath("spec")
	for _, it := range f.DistrictSources {
		ds := it.Object
		report := reporter(f, it.Origin, "DistrictSource", ds.Namespace, ds.Name)
		report(scheduleProblems(spec, ds.Spec.ScheduleSpec))
		_, err := render.DistrictSource(ctx, ds, r, render.InlineConfigMaps)
		report(renderProblems(err))
	}
	for _, it := range f.SharedSources {
		shs := it.Object
		report := reporter(f, it.Origin, "SharedSource", shs.Namespace, shs.Name)
		report(scheduleProblems(spec, shs.Spec.ScheduleSpec))
		_, err := render.SharedSource(ctx, shs, r, render.InlineConfigMaps)
		report(renderProblems(err))
	}
	for _, it := range f.StateComparisons {
		sc := it.Object
		report := reporter(f, it.Origin, "StateComparison", sc.Namespace, sc.Name)
		report(scheduleProblems(spec, sc.Spec.ScheduleSpec))
		_, err := render.StateComparison(ctx, sc, r)
		report(renderProblems(err))
	}
	for _, it := range f.Lakes {
		lk := it.Object
		report := reporter(f, it.Origin, "Lake", lk.Namespace, lk.Name)
		path := field.NewPath("spec", "credentialsSecretRef", "name")
		if s := f.Secret(lk.Namespace, lk.Spec.CredentialsSecretRef.Name); s != nil {
			for _, key := range []string{v1alpha1.LakeSecretKeyAccessKeyID, v1alpha1.LakeSecretKeySecretAccessKey} {
				if _, ok := s.Data[key]; !ok {
					report(field.ErrorList{field.Invalid(path, lk.Spec.CredentialsSecretRef.Name,
						fmt.Sprintf("the Secret has no key %q", key))})
				}
			}
		}
	}
}

func reporter(f *Folder, o Origin, kind, ns, name string) func(field.ErrorList) {
	obj := kind + " " + ns + "/" + name
	return func(errs field.ErrorList) {
		for _, e := range errs {
			f.problem(o, obj, e)
		}
	}
}

// scheduleProblems is the controllers' schedule check as a field error.
func scheduleProblems(spec *field.Path, s v1alpha1.ScheduleSpec) field.ErrorList {
	var se *render.ScheduleError
	if err := render.CheckSchedule(s); errors.As(err, &se) {
		return field.ErrorList{field.Invalid(spec.Child(se.Field), se.Value, se.Problem)}
	}
	return nil
}

// renderProblems turns what render refused into field errors, one per reference that does
// not resolve, worded for a folder.
func renderProblems(err error) field.ErrorList {
	if err == nil {
		return nil
	}
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	var out field.ErrorList
	for _, e := range errs {
		var ref *render.RefError
		var spec *render.SpecError
		switch {
		case errors.As(e, &ref):
			out = append(out, field.Invalid(ref.Field, ref.Value(), folderMessage(ref)))
		case errors.As(e, &spec):
			out = append(out, field.Invalid(spec.Field, field.OmitValueType{}, spec.Detail))
		default:
			out = append(out, field.InternalError(nil, e))
		}
	}
	return out
}

// folderMessage says what a reference misses, in the folder's words.
func folderMessage(e *render.RefError) string {
	if e.NoKey {
		return fmt.Sprintf("%s %s/%s has no key %q", e.Kind, e.Namespace, e.Name, e.Key)
	}
	if e.NotReady != "" {
		return fmt.Sprintf("%s %s/%s %s", e.Kind, e.Namespace, e.Name, e.NotReady)
	}
	return fmt.Sprintf("no %s %q in namespace %s in this folder", e.Kind, e.Name, e.Namespace)
}
