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
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/render"
	"github.com/districtlake/districtlake/internal/status"
)

// BucketChecker checks that a lake's bucket exists and that the credentials reach it. Its
// errors must never hold the secret; a missing bucket wraps ErrBucketNotFound (or says
// NoSuchBucket).
type BucketChecker interface {
	CheckBucket(ctx context.Context, l lake.Config, accessKeyID, secretAccessKey string) error
}

// BucketCheckFunc adapts a function, such as lake.CheckBucket, to a BucketChecker.
type BucketCheckFunc func(ctx context.Context, l lake.Config, accessKeyID, secretAccessKey string) error

// CheckBucket calls f.
func (f BucketCheckFunc) CheckBucket(ctx context.Context, l lake.Config, id, secret string) error {
	return f(ctx, l, id, secret)
}

// AbortRuleChecker says whether a lake's bucket has a lifecycle rule that aborts
// incomplete multipart uploads under the lake's prefix (see lake.CheckAbortRule). Its
// errors must never hold the secret.
type AbortRuleChecker interface {
	CheckAbortRule(ctx context.Context, l lake.Config, accessKeyID, secretAccessKey string) (bool, error)
}

// AbortRuleCheckFunc adapts a function, such as lake.CheckAbortRule, to an AbortRuleChecker.
type AbortRuleCheckFunc func(ctx context.Context, l lake.Config, accessKeyID, secretAccessKey string) (bool, error)

// CheckAbortRule calls f.
func (f AbortRuleCheckFunc) CheckAbortRule(ctx context.Context, l lake.Config, id, secret string) (bool, error) {
	return f(ctx, l, id, secret)
}

// ErrBucketNotFound is what a BucketChecker wraps when the bucket does not exist.
var ErrBucketNotFound = errors.New("the bucket does not exist")

// LakeReconciler checks each Lake's bucket with the credentials its Secret holds.
type LakeReconciler struct {
	Client client.Client
	// APIReader reads the Lakes' Secrets from the API server; the manager caches only the
	// keys of source credentials.
	APIReader client.Reader
	Clock     clock.PassiveClock
	Checker   BucketChecker
	// AbortRules checks the bucket's lifecycle rules once it is reachable (nil: not
	// checked), for the UploadCleanup condition.
	AbortRules AbortRuleChecker
	// Workers is how many Lakes are checked at once.
	Workers int
	// StatusWrites tells a status read from a lagging cache apart (nil: never).
	StatusWrites *statusWrites
	// Interval between checks of a reachable bucket.
	Interval time.Duration
	// Timeout bounds one check.
	Timeout time.Duration
}

// +kubebuilder:rbac:groups=districtlake.io,resources=lakes,verbs=get;list;watch
// +kubebuilder:rbac:groups=districtlake.io,resources=lakes/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get

// Reconcile checks one Lake's bucket and records the result in status. A deferred block
// summarises the conditions and patches status once, whatever the outcome.
func (r *LakeReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	lake := &v1alpha1.Lake{}
	if err := r.Client.Get(ctx, req.NamespacedName, lake); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !lake.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	base := client.MergeFrom(lake.DeepCopy())
	now := metav1.NewTime(r.Clock.Now().Truncate(time.Second))
	lake.Status.URL = lakeURL(lake)
	var ready status.Verdict
	defer func() {
		status.Summarize(&lake.Status.ConditionedStatus, lake.Generation, now, status.Outcome{Err: retErr, Ready: ready})
		res, retErr = patchStatus(ctx, r.Client, r.StatusWrites, lake, base, res, retErr)
	}()

	id, secret, err := r.credentials(ctx, lake)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.checkBucket(ctx, lake, id, secret); err != nil {
		// Not a stall: the controller retries with exponential backoff.
		return ctrl.Result{}, err
	}
	lake.Status.LastCheckedTime = &now
	r.checkAbortRule(ctx, lake, id, secret, now)
	ready = status.Verdict{Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonSucceeded,
		Message: fmt.Sprintf("Bucket %s at %s is reachable", lake.Spec.Bucket, lake.Spec.Endpoint)}
	return ctrl.Result{RequeueAfter: r.Interval}, nil
}

// checkBucket checks the Lake's bucket with its credentials, within the check timeout. Its
// error says why the bucket is out of reach, with no secret in it.
func (r *LakeReconciler) checkBucket(ctx context.Context, lake *v1alpha1.Lake, id, secret string) error {
	checkCtx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	err := r.Checker.CheckBucket(checkCtx, render.LakeConfig(lake, "", ""), id, secret)
	if err == nil {
		return nil
	}
	reason := v1alpha1.ReasonBucketUnreachable
	if errors.Is(err, ErrBucketNotFound) || strings.Contains(err.Error(), "NoSuchBucket") {
		reason = v1alpha1.ReasonBucketNotFound
	}
	return status.Retry(reason, redact(err.Error(), id, secret))
}

// checkAbortRule sets the UploadCleanup condition from the bucket's lifecycle rules. A
// missing rule is advice, not a failure: the Lake stays Ready, and the condition says what
// a killed run leaves behind and the command that sets the rule.
func (r *LakeReconciler) checkAbortRule(ctx context.Context, lk *v1alpha1.Lake, id, secret string, now metav1.Time) {
	if r.AbortRules == nil {
		return
	}
	checkCtx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	found, err := r.AbortRules.CheckAbortRule(checkCtx, render.LakeConfig(lk, "", ""), id, secret)
	c := metav1.Condition{Type: v1alpha1.UploadCleanupCondition, ObservedGeneration: lk.Generation, LastTransitionTime: now}
	where := fmt.Sprintf("Bucket %s at %s", lk.Spec.Bucket, lk.Spec.Endpoint)
	switch {
	case err != nil:
		c.Status, c.Reason = metav1.ConditionUnknown, v1alpha1.ReasonLifecycleUnreadable
		c.Message = "Could not read the bucket's lifecycle rules: " + redact(err.Error(), id, secret)
	case found:
		c.Status, c.Reason = metav1.ConditionTrue, v1alpha1.ReasonAbortRuleFound
		c.Message = where + " has a lifecycle rule that aborts incomplete multipart uploads under " + lakeURL(lk)
	default:
		c.Status, c.Reason = metav1.ConditionFalse, v1alpha1.ReasonNoAbortRule
		c.Message = where + " has no lifecycle rule that aborts incomplete multipart uploads under " + lakeURL(lk) +
			": a run killed mid-upload leaves its parts in the bucket, billed, until one does. Set one with: " +
			lake.AbortRuleCommand(lk.Spec.Bucket) +
			" (MinIO refuses the rule and removes stale uploads itself after api stale_uploads_expiry, 24h by default)"
	}
	lk.Status.SetCondition(c)
}

// credentials reads the access key pair from the Lake's Secret.
func (r *LakeReconciler) credentials(ctx context.Context, lake *v1alpha1.Lake) (string, string, error) {
	name := lake.Spec.CredentialsSecretRef.Name
	secret := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: lake.Namespace, Name: name}, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return "", "", stalledRecheck(r.secretRecheck(), v1alpha1.ReasonSecretNotFound,
				"Secret %q (credentialsSecretRef) not found in namespace %s", name, lake.Namespace)
		}
		return "", "", fmt.Errorf("reading Secret %s: %w", name, err)
	}
	var missing []string
	for _, k := range []string{v1alpha1.LakeSecretKeyAccessKeyID, v1alpha1.LakeSecretKeySecretAccessKey} {
		if len(secret.Data[k]) == 0 {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return "", "", stalledRecheck(r.secretRecheck(), v1alpha1.ReasonSecretNotFound,
			"Secret %q has no %s", name, strings.Join(missing, " or "))
	}
	return string(secret.Data[v1alpha1.LakeSecretKeyAccessKeyID]), string(secret.Data[v1alpha1.LakeSecretKeySecretAccessKey]), nil
}

// secretRecheck is how soon a Lake whose Secret is missing or incomplete is looked at again:
// the controller does not watch the Lakes' Secrets.
func (r *LakeReconciler) secretRecheck() time.Duration { return min(r.Interval, time.Minute) }

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
		WithOptions(workerOptions(r.Workers)).
		Complete(r)
}
