package plan

import (
	"fmt"
	"path"
	"strings"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/dataset"
)

// SourcesDir is where a Job mounts the ConfigMap files its sources read.
const SourcesDir = "/etc/districtlake/sources"

// SecretEnv is an environment variable that a Job fills from one key of a Secret.
type SecretEnv struct {
	Env    string
	Secret string
	Key    string
}

// ConfigMapFile is a ConfigMap key that a Job mounts as a file for a source.
type ConfigMapFile struct {
	// Source is the name of the source that reads the file.
	Source string
	// Volume is the volume's name in the pod.
	Volume    string
	ConfigMap string
	Key       string
	// Dir is where the volume is mounted; the file is Dir/File.
	Dir  string
	File string
}

// IngestPlan is an ingest plan with what the Job that runs it must provide.
type IngestPlan struct {
	Plan       Ingest
	Secrets    []SecretEnv
	ConfigMaps []ConfigMapFile
}

// Lakes resolves a Lake by name in the DistrictSource's namespace.
type Lakes func(name string) (*v1alpha1.Lake, error)

// ForDistrictSource renders a DistrictSource and its Lakes into an ingest plan.
func ForDistrictSource(ds *v1alpha1.DistrictSource, lakes Lakes) (*IngestPlan, error) {
	lake, err := lakes(ds.Spec.LakeRef.Name)
	if err != nil {
		return nil, fmt.Errorf("lake %q: %w", ds.Spec.LakeRef.Name, err)
	}
	out := &IngestPlan{Plan: Ingest{
		Version:   Version,
		Kind:      KindIngest,
		Namespace: ds.Namespace,
		Name:      ds.Name,
		District: District{
			NCESID: ds.Spec.District.NCESID,
			Name:   ds.Spec.District.Name,
			State:  string(ds.Spec.District.State),
		},
	}}
	out.Plan.Lake = out.lakeFor(lake, EnvLakeAccessKeyID, EnvLakeSecretAccessKey)
	for _, s := range ds.Spec.Sources {
		src, err := out.source(s, lakes)
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", s.Name, err)
		}
		out.Plan.Sources = append(out.Plan.Sources, src)
	}
	return out, nil
}

func (b *IngestPlan) source(s v1alpha1.Source, lakes Lakes) (Source, error) {
	src := Source{
		Name:       s.Name,
		Dataset:    string(s.Dataset),
		Format:     string(s.Format),
		SchoolYear: string(s.SchoolYear),
		Columns:    s.Columns,
		Delimiter:  s.Delimiter,
		Encoding:   string(s.Encoding),
		SHA256:     s.SHA256,
		Inline:     s.Inline,
	}
	if s.MaxBytes != nil {
		src.MaxBytes = *s.MaxBytes
	}
	if s.Timeout != nil {
		src.TimeoutSeconds = int64(s.Timeout.Seconds())
	}
	prefix := "DISTRICTLAKE_SRC_" + envName(s.Name)
	switch {
	case s.HTTP != nil:
		h := &HTTP{URL: s.HTTP.URL, Member: s.HTTP.Member}
		for i, hd := range s.HTTP.Headers {
			env := fmt.Sprintf("%s_HEADER_%d", prefix, i)
			b.Secrets = append(b.Secrets, SecretEnv{Env: env, Secret: hd.ValueFrom.Name, Key: hd.ValueFrom.Key})
			h.Headers = append(h.Headers, Header{Name: hd.Name, ValueEnv: env})
		}
		src.HTTP = h
	case s.S3 != nil:
		lk := b.Plan.Lake
		if s.S3.LakeRef != nil {
			other, err := lakes(s.S3.LakeRef.Name)
			if err != nil {
				return src, fmt.Errorf("lake %q: %w", s.S3.LakeRef.Name, err)
			}
			lk = b.lakeFor(other, prefix+"_ACCESS_KEY_ID", prefix+"_SECRET_ACCESS_KEY")
		}
		lk.Prefix = ""
		src.S3 = &S3{Lake: lk, Bucket: s.S3.Bucket, Key: s.S3.Key, Member: s.S3.Member}
	case s.ConfigMapRef != nil:
		f := ConfigMapFile{
			Source:    s.Name,
			Volume:    "src-" + s.Name,
			ConfigMap: s.ConfigMapRef.Name,
			Key:       s.ConfigMapRef.Key,
			Dir:       path.Join(SourcesDir, s.Name),
			File:      "data",
		}
		b.ConfigMaps = append(b.ConfigMaps, f)
		src.File = &File{Path: path.Join(f.Dir, f.File)}
	case s.Inline == nil:
		return src, fmt.Errorf("set exactly one of http, s3, configMapRef or inline")
	}
	return src, nil
}

// lakeFor turns a Lake into its plan form, registering its credentials as environment
// variables of the given names.
func (b *IngestPlan) lakeFor(l *v1alpha1.Lake, idEnv, secretEnv string) Lake {
	ref := l.Spec.CredentialsSecretRef.Name
	b.Secrets = appendSecret(b.Secrets, SecretEnv{Env: idEnv, Secret: ref, Key: v1alpha1.LakeSecretKeyAccessKeyID})
	b.Secrets = appendSecret(b.Secrets, SecretEnv{Env: secretEnv, Secret: ref, Key: v1alpha1.LakeSecretKeySecretAccessKey})
	return LakeFromSpec(l, idEnv, secretEnv)
}

// LakeFromSpec turns a Lake's spec into a plan lake whose credentials are read from the
// named environment variables.
func LakeFromSpec(l *v1alpha1.Lake, idEnv, secretEnv string) Lake {
	return Lake{
		Type:               LakeS3,
		Endpoint:           l.Spec.Endpoint,
		Bucket:             l.Spec.Bucket,
		Prefix:             l.Spec.Prefix,
		Region:             l.Spec.Region,
		Secure:             l.Spec.Secure,
		PathStyle:          l.Spec.PathStyle,
		AccessKeyIDEnv:     idEnv,
		SecretAccessKeyEnv: secretEnv,
	}
}

func appendSecret(list []SecretEnv, s SecretEnv) []SecretEnv {
	for _, have := range list {
		if have.Env == s.Env {
			return list
		}
	}
	return append(list, s)
}

// ForStateComparison renders a StateComparison and its Lake into a compare plan, with the
// Secret keys its Job needs.
func ForStateComparison(sc *v1alpha1.StateComparison, lake *v1alpha1.Lake) (*Compare, []SecretEnv) {
	p := &Compare{
		Version:   Version,
		Kind:      KindCompare,
		Namespace: sc.Namespace,
		Name:      sc.Name,
		State:     string(sc.Spec.State),
		Standards: StandardsFromSpec(sc.Spec.Standards),
		Lake:      LakeFromSpec(lake, EnvLakeAccessKeyID, EnvLakeSecretAccessKey),
	}
	for _, y := range sc.Spec.SchoolYears {
		p.SchoolYears = append(p.SchoolYears, string(y))
	}
	if c := sc.Spec.Costs; c != nil {
		p.Costs = &dataset.Costs{Counselor: c.Counselor, Nurse: c.Nurse, Psychologist: c.Psychologist, SocialWorker: c.SocialWorker}
	}
	ref := lake.Spec.CredentialsSecretRef.Name
	return p, []SecretEnv{
		{Env: EnvLakeAccessKeyID, Secret: ref, Key: v1alpha1.LakeSecretKeyAccessKeyID},
		{Env: EnvLakeSecretAccessKey, Secret: ref, Key: v1alpha1.LakeSecretKeySecretAccessKey},
	}
}

// StandardsFromSpec fills unset standards with the defaults.
func StandardsFromSpec(s v1alpha1.Standards) dataset.Standards {
	return dataset.WithDefaults(dataset.Standards{
		Counselor: s.Counselor, Nurse: s.Nurse, Psychologist: s.Psychologist, SocialWorker: s.SocialWorker,
	})
}

// envName turns a source name (lower-case letters, digits, dashes) into an environment
// variable fragment.
func envName(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}
