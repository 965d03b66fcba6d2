// Package render turns the custom resources into the run plans of internal/plan. It
// resolves the Lakes, ConfigMaps and Secrets a resource references through a Resolver
// (the cluster's in internal/controller, a folder's in internal/local), says what a Job
// must provide (Secret keys as environment variables, ConfigMap keys as mounted files),
// and checks schedules as the CronJob API does. Both the operator and `districtlake
// validate`/`run` render through it, so a folder that validates renders the same plan on
// a cluster.
package render

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
)

// SourcesDir is where a Job mounts the ConfigMap files its sources read.
const SourcesDir = "/etc/districtlake/sources"

// Resolver looks up the objects a resource references, in the resource's namespace. A
// lookup returns ErrNotFound (possibly wrapped) when the object does not exist, and
// ErrNotHeld when the resolver cannot tell; any other error stops the rendering. The
// renderer reads a Secret only to see whether it has a key; it never keeps a value.
type Resolver interface {
	Lake(ctx context.Context, namespace, name string) (*v1alpha1.Lake, error)
	ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error)
	Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
	SharedSource(ctx context.Context, namespace, name string) (*v1alpha1.SharedSource, error)
}

// ConfigMapStrategy says how a source that reads a ConfigMap key gets its bytes.
type ConfigMapStrategy int

const (
	// MountConfigMaps mounts the key as a file in the Job (on a cluster).
	MountConfigMaps ConfigMapStrategy = iota
	// InlineConfigMaps copies the key's bytes (data or binaryData) into the plan (a local
	// run, which has no Pod to mount them in).
	InlineConfigMaps
)

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

// Ingest is a DistrictSource's ingest plan with what the Job that runs it must provide.
type Ingest struct {
	Plan plan.Ingest
	// Secrets are the Secret keys the Job receives as environment variables, the Lake's
	// credentials (plan.EnvLakeAccessKeyID, plan.EnvLakeSecretAccessKey) first.
	Secrets []SecretEnv
	// ConfigMaps are the keys the Job mounts (MountConfigMaps only).
	ConfigMaps []ConfigMapFile
}

// Compare is a StateComparison's compare plan with the Secret keys its Job needs.
type Compare struct {
	Plan    plan.Compare
	Secrets []SecretEnv
}

// DistrictSource renders a DistrictSource into an ingest plan, resolving its Lakes,
// ConfigMaps and Secrets. Every reference is checked (but the Lake's own credentials,
// which are the Lake's to report); the error joins a *RefError per reference that does not
// resolve and a *SpecError per source the renderer cannot use, in the spec's order. An
// error other than those (from the resolver) is returned at once.
func DistrictSource(ctx context.Context, ds *v1alpha1.DistrictSource, r Resolver, cms ConfigMapStrategy) (*Ingest, error) {
	b := &builder{ctx: ctx, r: r, namespace: ds.Namespace, configMaps: cms, lakeName: ds.Spec.LakeRef.Name, district: ds.Spec.District.NCESID}
	out := &Ingest{Plan: plan.Ingest{
		Version:   plan.Version,
		Kind:      plan.KindIngest,
		Namespace: ds.Namespace,
		Name:      ds.Name,
		District: plan.District{
			NCESID: ds.Spec.District.NCESID,
			Name:   ds.Spec.District.Name,
			State:  string(ds.Spec.District.State),
		},
	}}
	spec := field.NewPath("spec")
	lk, err := b.lake(ds.Spec.LakeRef.Name, "", spec.Child("lakeRef", "name"))
	if err != nil {
		return nil, err
	}
	if lk != nil {
		out.Plan.Lake = b.lakeFor(lk, plan.EnvLakeAccessKeyID, plan.EnvLakeSecretAccessKey)
	}
	for i, s := range ds.Spec.Sources {
		src, err := b.source(s, out.Plan.Lake, spec.Child("sources").Index(i))
		if err != nil {
			return nil, err
		}
		out.Plan.Sources = append(out.Plan.Sources, src)
	}
	if err := errors.Join(b.errs...); err != nil {
		return nil, err
	}
	out.Secrets, out.ConfigMaps = b.secrets, b.files
	return out, nil
}

// StateComparison renders a StateComparison into a compare plan, resolving its Lake.
func StateComparison(ctx context.Context, sc *v1alpha1.StateComparison, r Resolver) (*Compare, error) {
	b := &builder{ctx: ctx, r: r, namespace: sc.Namespace}
	out := &Compare{Plan: plan.Compare{
		Version:   plan.Version,
		Kind:      plan.KindCompare,
		Namespace: sc.Namespace,
		Name:      sc.Name,
		State:     string(sc.Spec.State),
		Standards: StandardsFromSpec(sc.Spec.Standards),
	}}
	for _, y := range sc.Spec.SchoolYears {
		out.Plan.SchoolYears = append(out.Plan.SchoolYears, string(y))
	}
	if c := sc.Spec.Costs; c != nil {
		out.Plan.Costs = &dataset.Costs{Counselor: c.Counselor, Nurse: c.Nurse, Psychologist: c.Psychologist, SocialWorker: c.SocialWorker}
	}
	lk, err := b.lake(sc.Spec.LakeRef.Name, "", field.NewPath("spec", "lakeRef", "name"))
	if err != nil {
		return nil, err
	}
	if lk != nil {
		out.Plan.Lake = b.lakeFor(lk, plan.EnvLakeAccessKeyID, plan.EnvLakeSecretAccessKey)
	}
	if err := errors.Join(b.errs...); err != nil {
		return nil, err
	}
	out.Secrets = b.secrets
	return out, nil
}

// builder collects a plan's requirements and the references that do not resolve.
type builder struct {
	ctx        context.Context
	r          Resolver
	namespace  string
	configMaps ConfigMapStrategy
	// lakeName and district are the DistrictSource's Lake and NCES ID (sharedSourceRefs).
	lakeName string
	district string
	secrets  []SecretEnv
	files    []ConfigMapFile
	errs     []error
}

func (b *builder) source(s v1alpha1.Source, own plan.Lake, at *field.Path) (plan.Source, error) {
	src := plan.Source{
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
	var err error
	switch {
	case s.HTTP != nil:
		src.HTTP, err = b.http(s, prefix, at.Child("http"))
	case s.S3 != nil:
		src.S3, err = b.s3(s, own, prefix, at.Child("s3"))
	case s.ConfigMapRef != nil:
		err = b.configMap(s, &src, at.Child("configMapRef"))
	case s.SharedSourceRef != nil:
		err = b.shared(s, &src, own, at.Child("sharedSourceRef", "name"))
	case s.Inline == nil:
		b.errs = append(b.errs, &SpecError{Field: at, Source: s.Name, Detail: "set exactly one of http, s3, configMapRef, inline or sharedSourceRef"})
	}
	return src, err
}

func (b *builder) http(s v1alpha1.Source, prefix string, at *field.Path) (*plan.HTTP, error) {
	h := &plan.HTTP{URL: s.HTTP.URL, Member: s.HTTP.Member}
	for i, hd := range s.HTTP.Headers {
		env := fmt.Sprintf("%s_HEADER_%d", prefix, i)
		ref := SecretEnv{Env: env, Secret: hd.ValueFrom.Name, Key: hd.ValueFrom.Key}
		from := at.Child("headers").Index(i).Child("valueFrom")
		if err := b.secretKeys([]SecretEnv{ref}, s.Name, from.Child("name"), from.Child("key")); err != nil {
			return nil, err
		}
		h.Headers = append(h.Headers, plan.Header{Name: hd.Name, ValueEnv: env})
	}
	return h, nil
}

func (b *builder) s3(s v1alpha1.Source, own plan.Lake, prefix string, at *field.Path) (*plan.S3, error) {
	lk := own
	if s.S3.LakeRef != nil {
		name := at.Child("lakeRef", "name")
		other, err := b.lake(s.S3.LakeRef.Name, s.Name, name)
		if err != nil || other == nil {
			return nil, err
		}
		idEnv, secretEnv := prefix+"_ACCESS_KEY_ID", prefix+"_SECRET_ACCESS_KEY"
		lk = b.lakeFor(other, idEnv, secretEnv)
		// The other Lake's credentials are this Job's to read: check them here too.
		ref := other.Spec.CredentialsSecretRef.Name
		keys := []SecretEnv{{Env: idEnv, Secret: ref, Key: v1alpha1.LakeSecretKeyAccessKeyID}, {Env: secretEnv, Secret: ref, Key: v1alpha1.LakeSecretKeySecretAccessKey}}
		if err := b.secretKeys(keys, s.Name, name, name); err != nil {
			return nil, err
		}
	}
	lk.Prefix = ""
	return &plan.S3{Lake: lk, Bucket: s.S3.Bucket, Key: s.S3.Key, Member: s.S3.Member}, nil
}

func (b *builder) configMap(s v1alpha1.Source, src *plan.Source, at *field.Path) error {
	ref := s.ConfigMapRef
	cm, err := b.r.ConfigMap(b.ctx, b.namespace, ref.Name)
	missing := &RefError{Kind: KindConfigMap, Namespace: b.namespace, Name: ref.Name, Key: ref.Key, Source: s.Name, Field: at.Child("name")}
	switch {
	case errors.Is(err, ErrNotHeld):
		return nil
	case errors.Is(err, ErrNotFound):
		b.errs = append(b.errs, missing)
		return nil
	case err != nil:
		return fmt.Errorf("source %q: reading ConfigMap %s/%s: %w", s.Name, b.namespace, ref.Name, err)
	}
	text, inData := cm.Data[ref.Key]
	data, inBinary := cm.BinaryData[ref.Key]
	if !inData && !inBinary {
		missing.NoKey, missing.Field = true, at.Child("key")
		b.errs = append(b.errs, missing)
		return nil
	}
	if b.configMaps == InlineConfigMaps {
		if !inData {
			text = string(data)
		}
		src.Inline = &text
		return nil
	}
	f := ConfigMapFile{
		Source:    s.Name,
		Volume:    "src-" + s.Name,
		ConfigMap: ref.Name,
		Key:       ref.Key,
		Dir:       path.Join(SourcesDir, s.Name),
		File:      "data",
	}
	b.files = append(b.files, f)
	src.File = &plan.File{Path: path.Join(f.Dir, f.File)}
	return nil
}

// lake resolves a Lake; nil (and no error) when it does not resolve, recorded in errs.
func (b *builder) lake(name, source string, at *field.Path) (*v1alpha1.Lake, error) {
	lk, err := b.r.Lake(b.ctx, b.namespace, name)
	switch {
	case errors.Is(err, ErrNotHeld):
		return nil, nil
	case errors.Is(err, ErrNotFound):
		b.errs = append(b.errs, &RefError{Kind: KindLake, Namespace: b.namespace, Name: name, Source: source, Field: at})
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading Lake %s/%s: %w", b.namespace, name, err)
	}
	return lk, nil
}

// secretKeys registers Secret keys the Job needs, all of one Secret, and checks that they
// resolve. name and key are where the Secret's name and the key are written in the spec.
func (b *builder) secretKeys(refs []SecretEnv, source string, name, key *field.Path) error {
	for _, ref := range refs {
		b.secrets = appendSecret(b.secrets, ref)
	}
	secret := refs[0].Secret
	sec, err := b.r.Secret(b.ctx, b.namespace, secret)
	switch {
	case errors.Is(err, ErrNotHeld):
		return nil
	case errors.Is(err, ErrNotFound):
		b.errs = append(b.errs, &RefError{Kind: KindSecret, Namespace: b.namespace, Name: secret, Key: refs[0].Key,
			Source: source, Env: refs[0].Env, Field: name})
		return nil
	case err != nil:
		return fmt.Errorf("reading Secret %s/%s: %w", b.namespace, secret, err)
	}
	for _, ref := range refs {
		if _, ok := sec.Data[ref.Key]; !ok {
			b.errs = append(b.errs, &RefError{Kind: KindSecret, Namespace: b.namespace, Name: secret, Key: ref.Key,
				NoKey: true, Source: source, Env: ref.Env, Field: key})
		}
	}
	return nil
}

// lakeFor turns a Lake into its plan form, registering its credentials as environment
// variables of the given names.
func (b *builder) lakeFor(l *v1alpha1.Lake, idEnv, secretEnv string) plan.Lake {
	ref := l.Spec.CredentialsSecretRef.Name
	b.secrets = appendSecret(b.secrets, SecretEnv{Env: idEnv, Secret: ref, Key: v1alpha1.LakeSecretKeyAccessKeyID})
	b.secrets = appendSecret(b.secrets, SecretEnv{Env: secretEnv, Secret: ref, Key: v1alpha1.LakeSecretKeySecretAccessKey})
	return LakeConfig(l, idEnv, secretEnv)
}

// LakeConfig turns a Lake's spec into the lake's configuration, whose credentials are read
// from the named environment variables.
func LakeConfig(l *v1alpha1.Lake, idEnv, secretEnv string) lake.Config {
	return lake.Config{
		Type:               lake.TypeS3,
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
