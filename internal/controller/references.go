package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/plan"
)

// checkReferences makes sure every ConfigMap key and Secret key a workload's sources read
// exists, so that a missing one shows as Stalled (ConfigMapNotFound, SecretNotFound) rather
// than as a Pod stuck in ContainerCreating. The Lake's own credentials are the Lake's to
// report. Values are read only to look for the key; none is kept.
func (r *Runner) checkReferences(ctx context.Context, w *workload) error {
	ns := w.owner.GetNamespace()
	for _, f := range w.configMaps {
		cm := &corev1.ConfigMap{}
		if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ns, Name: f.ConfigMap}, cm); err != nil {
			if apierrors.IsNotFound(err) {
				return stalledRecheck(r.ReferenceRecheck, v1alpha1.ReasonConfigMapNotFound,
					"ConfigMap %s/%s, which source %q reads, not found", ns, f.ConfigMap, f.Source)
			}
			return fmt.Errorf("reading ConfigMap %s: %w", f.ConfigMap, err)
		}
		_, inData := cm.Data[f.Key]
		_, inBinary := cm.BinaryData[f.Key]
		if !inData && !inBinary {
			return stalledRecheck(r.ReferenceRecheck, v1alpha1.ReasonConfigMapNotFound,
				"ConfigMap %s/%s has no key %q, which source %q reads", ns, f.ConfigMap, f.Key, f.Source)
		}
	}
	for _, s := range w.secrets {
		if s.Env == plan.EnvLakeAccessKeyID || s.Env == plan.EnvLakeSecretAccessKey {
			continue
		}
		sec := &corev1.Secret{}
		if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ns, Name: s.Secret}, sec); err != nil {
			if apierrors.IsNotFound(err) {
				return stalledRecheck(r.ReferenceRecheck, v1alpha1.ReasonSecretNotFound,
					"Secret %s/%s not found (it fills %s)", ns, s.Secret, s.Env)
			}
			return fmt.Errorf("reading Secret %s: %w", s.Secret, err)
		}
		if _, ok := sec.Data[s.Key]; !ok {
			return stalledRecheck(r.ReferenceRecheck, v1alpha1.ReasonSecretNotFound,
				"Secret %s/%s has no key %q (it fills %s)", ns, s.Secret, s.Key, s.Env)
		}
	}
	return nil
}
