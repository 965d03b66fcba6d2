package render

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/land"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/summary"
)

// sharedEnvPrefix names the environment variables of a SharedSource Job's secrets.
const sharedEnvPrefix = "DISTRICTLAKE_SHARED"

// Land is a SharedSource's land plan with the Secret keys and ConfigMap keys its Job needs.
type Land struct {
	Plan    plan.Land
	Secrets []SecretEnv
	// ConfigMaps are the keys the Job mounts (a configMapRef, MountConfigMaps only).
	ConfigMaps []ConfigMapFile
}

// SharedSource renders a SharedSource into a land plan, resolving its Lake, Secrets and
// ConfigMap (read as cms says). The artifact in its status, if any, becomes the plan's
// Previous: its validators make the fetch conditional.
func SharedSource(ctx context.Context, shs *v1alpha1.SharedSource, r Resolver, cms ConfigMapStrategy) (*Land, error) {
	b := &builder{ctx: ctx, r: r, namespace: shs.Namespace, configMaps: cms}
	spec := shs.Spec
	out := &Land{Plan: plan.Land{
		Version:        plan.Version,
		Kind:           plan.KindLand,
		Namespace:      shs.Namespace,
		Name:           shs.Name,
		DistrictColumn: spec.DistrictColumn,
		SchoolYear:     string(spec.SchoolYear),
	}}
	at := field.NewPath("spec")
	lk, err := b.lake(spec.LakeRef.Name, "", at.Child("lakeRef", "name"))
	if err != nil {
		return nil, err
	}
	if lk != nil {
		out.Plan.Lake = b.lakeFor(lk, plan.EnvLakeAccessKeyID, plan.EnvLakeSecretAccessKey)
	}
	as := v1alpha1.Source{Name: shs.Name, HTTP: spec.HTTP, S3: spec.S3, ConfigMapRef: spec.ConfigMapRef}
	src := plan.Source{
		Name:      shs.Name,
		Format:    string(spec.Format),
		Encoding:  string(spec.Encoding),
		Delimiter: spec.Delimiter,
	}
	if spec.MaxBytes != nil {
		src.MaxBytes = *spec.MaxBytes
	}
	if spec.Timeout != nil {
		src.TimeoutSeconds = int64(spec.Timeout.Seconds())
	}
	switch {
	case spec.HTTP != nil:
		src.HTTP, err = b.http(as, sharedEnvPrefix, at.Child("http"))
	case spec.S3 != nil:
		src.S3, err = b.s3(as, out.Plan.Lake, sharedEnvPrefix, at.Child("s3"))
	case spec.ConfigMapRef != nil:
		err = b.configMap(as, &src, at.Child("configMapRef"))
	default:
		b.errs = append(b.errs, &SpecError{Field: at, Detail: "set exactly one of http, s3 or configMapRef"})
	}
	if err != nil {
		return nil, err
	}
	out.Plan.Source = src
	if a := shs.Status.Artifact; a != nil {
		out.Plan.Previous = &plan.Previous{ETag: a.ETag, LastModified: a.LastModified, Revision: a.Revision}
	}
	if err := errors.Join(b.errs...); err != nil {
		return nil, err
	}
	out.Secrets, out.ConfigMaps = b.secrets, b.files
	return out, nil
}

// shared resolves a sharedSourceRef to the district's object of the SharedSource's current
// revision, read from the DistrictSource's own Lake (the one the revision was landed in).
func (b *builder) shared(s v1alpha1.Source, src *plan.Source, own plan.Lake, at *field.Path) error {
	name := s.SharedSourceRef.Name
	shs, err := b.r.SharedSource(b.ctx, b.namespace, name)
	ref := &RefError{Kind: KindSharedSource, Namespace: b.namespace, Name: name, Source: s.Name, Field: at}
	switch {
	case errors.Is(err, ErrNotHeld):
		return nil
	case errors.Is(err, ErrNotFound):
		b.errs = append(b.errs, ref)
		return nil
	case err != nil:
		return fmt.Errorf("source %q: reading SharedSource %s/%s: %w", s.Name, b.namespace, name, err)
	}
	if shs.Spec.LakeRef.Name != b.lakeName {
		ref.NotReady = fmt.Sprintf("lands in Lake %q, not in this DistrictSource's Lake %q", shs.Spec.LakeRef.Name, b.lakeName)
		b.errs = append(b.errs, ref)
		return nil
	}
	a := shs.Status.Artifact
	if a == nil || a.Revision == "" {
		ref.NotReady, ref.Pending = "has not landed a revision yet", true
		b.errs = append(b.errs, ref)
		return nil
	}
	if src.Format == "" {
		src.Format = string(shs.Spec.Format)
	}
	src.Format = land.LandedFormat(src.Format)
	if src.SchoolYear == "" {
		src.SchoolYear = string(shs.Spec.SchoolYear)
	}
	// The landed objects are UTF-8 (decoded when landed) and keep the file's delimiter.
	src.Encoding = ""
	src.Delimiter = shs.Spec.Delimiter
	landed := land.Locate(b.namespace, name, a.Revision, a.Layout, b.district, string(shs.Spec.Format))
	landed.Lake = own
	src.Landed = &landed
	return nil
}

// SharedArtifact is the status form of a landed revision (nil for none).
func SharedArtifact(a *summary.Artifact) *v1alpha1.SharedArtifact {
	if a == nil {
		return nil
	}
	out := &v1alpha1.SharedArtifact{
		Revision: a.Revision, Digest: a.Digest, Bytes: a.Bytes, Rows: a.Rows, Districts: a.Districts,
		Key: a.Prefix, ManifestKey: a.ManifestKey, Layout: a.Layout, ETag: a.ETag, LastModified: a.LastModified,
	}
	if t, err := time.Parse(time.RFC3339, a.LandedAt); err == nil {
		landed := metav1.NewTime(t)
		out.LandedAt = &landed
	}
	return out
}
