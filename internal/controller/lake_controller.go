package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/plan"
)

// Keys of a Lake's credentials Secret.
const (
	SecretKeyAccessKeyID     = "accessKeyID"
	SecretKeySecretAccessKey = "secretAccessKey"
)

// BucketChecker checks that a lake's bucket exists and that the credentials reach it. Its
// errors must never hold the secret; a missing bucket wraps ErrBucketNotFound (or says
// NoSuchBucket).
type BucketChecker interface {
	CheckBucket(ctx context.Context, l plan.Lake, accessKeyID, secretAccessKey string) error
}

// BucketCheckFunc adapts a function, such as lake.CheckBucket, to a BucketChecker.
type BucketCheckFunc func(ctx context.Context, l plan.Lake, accessKeyID, secretAccessKey string) error

// CheckBucket calls f.
func (f BucketCheckFunc) CheckBucket(ctx context.Context, l plan.Lake, id, secret string) error {
	return f(ctx, l, id, secret)
}

// ErrBucketNotFound is what a BucketChecker wraps when the bucket does not exist.
var ErrBucketNotFound = errors.New("the bucket does not exist")

// LakeReconciler checks each Lake's bucket with the credentials its Secret holds.
type LakeReconciler struct {
	Client client.Client
	// APIReader reads Secrets from the API server; the manager caches none.
	APIReader client.Reader
	Clock     clock.PassiveClock
	Checker   BucketChecker
	// Interval between checks of a reachable bucket.
	Interval time.Duration
	// Timeout bounds one check.
	Timeout time.Duration
}

// +kubebuilder:rbac:groups=districtlake.io,resources=lakes,verbs=get;list;watch
// +kubebuilder:rbac:groups=districtlake.io,resources=lakes/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get

// Reconcile checks one Lake's bucket and records the result in status.
func (r *LakeReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	lake := &v1alpha1.Lake{}
	if err := r.Client.Get(ctx, req.NamespacedName, lake); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !lake.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	base := client.MergeFrom(lake.DeepCopy())
	c := conditions{list: &lake.Status.Conditions, generation: lake.Generation, now: metav1.NewTime(r.Clock.Now().Truncate(time.Second))}
	lake.Status.URL = lakeURL(lake)
	defer func() {
		if err := r.Client.Status().Patch(ctx, lake, base); err != nil && !apierrors.IsNotFound(err) {
			retErr = errors.Join(retErr, fmt.Errorf("patching status: %w", err))
		}
	}()

	id, secret, err := r.credentials(ctx, lake)
	if err != nil {
		if s, ok := asStalled(err); ok {
			c.set(v1alpha1.StalledCondition, metav1.ConditionTrue, s.reason, s.message)
			c.set(v1alpha1.ReadyCondition, metav1.ConditionFalse, s.reason, s.message)
			c.remove(v1alpha1.ReconcilingCondition)
			logf.FromContext(ctx).Info("Stalled", "reason", s.reason, "message", s.message)
			// The Secret is not watched: look again later.
			return ctrl.Result{RequeueAfter: min(r.Interval, time.Minute)}, nil
		}
		return ctrl.Result{}, err
	}
	c.remove(v1alpha1.StalledCondition)

	checkCtx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	if err := r.Checker.CheckBucket(checkCtx, plan.LakeFromSpec(lake, "", ""), id, secret); err != nil {
		reason := v1alpha1.ReasonBucketUnreachable
		if errors.Is(err, ErrBucketNotFound) || strings.Contains(err.Error(), "NoSuchBucket") {
			reason = v1alpha1.ReasonBucketNotFound
		}
		msg := redact(err.Error(), id, secret)
		c.set(v1alpha1.ReadyCondition, metav1.ConditionFalse, reason, msg)
		c.set(v1alpha1.ReconcilingCondition, metav1.ConditionTrue, reason, "Checking the bucket again after a backoff")
		// A plain error: the controller retries with exponential backoff.
		return ctrl.Result{}, errors.New(msg)
	}
	now := c.now
	lake.Status.LastCheckedTime = &now
	c.remove(v1alpha1.ReconcilingCondition)
	c.set(v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded,
		fmt.Sprintf("Bucket %s at %s is reachable", lake.Spec.Bucket, lake.Spec.Endpoint))
	lake.Status.ObservedGeneration = lake.Generation
	return ctrl.Result{RequeueAfter: r.Interval}, nil
}

// credentials reads the access key pair from the Lake's Secret.
func (r *LakeReconciler) credentials(ctx context.Context, lake *v1alpha1.Lake) (string, string, error) {
	name := lake.Spec.CredentialsSecretRef.Name
	secret := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: lake.Namespace, Name: name}, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return "", "", stalled(v1alpha1.ReasonSecretNotFound, "Secret %q (credentialsSecretRef) not found in namespace %s", name, lake.Namespace)
		}
		return "", "", fmt.Errorf("reading Secret %s: %w", name, err)
	}
	var missing []string
	for _, k := range []string{SecretKeyAccessKeyID, SecretKeySecretAccessKey} {
		if len(secret.Data[k]) == 0 {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return "", "", stalled(v1alpha1.ReasonSecretNotFound, "Secret %q has no %s", name, strings.Join(missing, " or "))
	}
	return string(secret.Data[SecretKeyAccessKeyID]), string(secret.Data[SecretKeySecretAccessKey]), nil
}

// lakeURL is the lake's address as DuckDB reads it.
func lakeURL(l *v1alpha1.Lake) string {
	u := "s3://" + l.Spec.Bucket
	if p := strings.Trim(l.Spec.Prefix, "/"); p != "" {
		u += "/" + p
	}
	return u
}

// redact removes every non-empty secret from msg.
func redact(msg string, secrets ...string) string {
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[REDACTED]")
		}
	}
	return msg
}

// SetupWithManager registers the reconciler; only spec changes (and the periodic requeue)
// start a check.
func (r *LakeReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Lake{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("lake").
		Complete(r)
}
