package local

import (
	"fmt"
	"time"
	_ "time/tzdata" // timeZone values are checked on machines without a zoneinfo database

	"github.com/robfig/cron/v3"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/districtlake/districtlake/api/v1alpha1"
)

// checkReferences checks what the CRD schemas cannot: that schedules parse as the CronJob
// controller parses them, that time zones exist, and that Lakes, ConfigMaps (and their
// keys) and the keys of Secrets that are in the folder resolve in the object's namespace.
func checkReferences(f *Folder) {
	for _, it := range f.DistrictSources {
		ds := it.Object
		report := reporter(f, it.Origin, "DistrictSource", ds.Namespace, ds.Name)
		spec := field.NewPath("spec")
		report(checkSchedule(spec, ds.Spec.ScheduleSpec))
		report(checkLakeRef(f, ds.Namespace, spec.Child("lakeRef", "name"), ds.Spec.LakeRef.Name))
		for i, s := range ds.Spec.Sources {
			report(checkSource(f, ds.Namespace, spec.Child("sources").Index(i), s))
		}
	}
	for _, it := range f.StateComparisons {
		sc := it.Object
		report := reporter(f, it.Origin, "StateComparison", sc.Namespace, sc.Name)
		spec := field.NewPath("spec")
		report(checkSchedule(spec, sc.Spec.ScheduleSpec))
		report(checkLakeRef(f, sc.Namespace, spec.Child("lakeRef", "name"), sc.Spec.LakeRef.Name))
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

// checkSchedule parses the schedule with the parser the Kubernetes CronJob controller uses
// (five fields or a descriptor such as @daily) and loads the time zone.
func checkSchedule(spec *field.Path, s v1alpha1.ScheduleSpec) field.ErrorList {
	var errs field.ErrorList
	if _, err := cron.ParseStandard(s.Schedule); err != nil {
		errs = append(errs, field.Invalid(spec.Child("schedule"), s.Schedule, "not a valid cron schedule: "+err.Error()))
	}
	if s.TimeZone != nil && *s.TimeZone != "" {
		if _, err := time.LoadLocation(*s.TimeZone); err != nil {
			errs = append(errs, field.Invalid(spec.Child("timeZone"), *s.TimeZone, "not a known IANA time zone"))
		}
	}
	return errs
}

func checkLakeRef(f *Folder, ns string, path *field.Path, name string) field.ErrorList {
	if !f.has("Lake", ns, name) {
		return field.ErrorList{field.Invalid(path, name, fmt.Sprintf("no Lake %q in namespace %s in this folder", name, ns))}
	}
	return nil
}

func checkSource(f *Folder, ns string, path *field.Path, s v1alpha1.Source) field.ErrorList {
	var errs field.ErrorList
	if ref := s.ConfigMapRef; ref != nil {
		cm := f.ConfigMap(ns, ref.Name)
		switch {
		case !f.has("ConfigMap", ns, ref.Name):
			errs = append(errs, field.Invalid(path.Child("configMapRef", "name"), ref.Name,
				fmt.Sprintf("no ConfigMap %q in namespace %s in this folder", ref.Name, ns)))
		case cm == nil:
			// The ConfigMap is there but invalid; its own errors say why.
		case !hasKey(cm.Data, cm.BinaryData, ref.Key):
			errs = append(errs, field.Invalid(path.Child("configMapRef", "key"), ref.Key,
				fmt.Sprintf("ConfigMap %s/%s has no key %q", ns, ref.Name, ref.Key)))
		}
	}
	if s.S3 != nil && s.S3.LakeRef != nil {
		errs = append(errs, checkLakeRef(f, ns, path.Child("s3", "lakeRef", "name"), s.S3.LakeRef.Name)...)
	}
	if s.HTTP != nil {
		for j, h := range s.HTTP.Headers {
			sec := f.Secret(ns, h.ValueFrom.Name)
			if sec == nil {
				continue // resolved from the environment at run time
			}
			if _, ok := sec.Data[h.ValueFrom.Key]; !ok {
				errs = append(errs, field.Invalid(path.Child("http", "headers").Index(j).Child("valueFrom", "key"), h.ValueFrom.Key,
					fmt.Sprintf("Secret %s/%s has no key %q", ns, h.ValueFrom.Name, h.ValueFrom.Key)))
			}
		}
	}
	return errs
}

func hasKey(data map[string]string, binary map[string][]byte, key string) bool {
	if _, ok := data[key]; ok {
		return true
	}
	_, ok := binary[key]
	return ok
}

// has reports whether the folder holds an object of that kind, namespace and name, valid or
// not (an invalid object has its own errors; references to it are not errors too).
func (f *Folder) has(kind, ns, name string) bool {
	for _, it := range f.Found {
		if it.Kind == kind && it.Namespace == ns && it.Name == name && it.Ignored == "" {
			return true
		}
	}
	return false
}
