package controller

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/districtlake/districtlake/api/v1alpha1"
)

// staleCache is a cache that has not yet seen any object.
type staleCache struct{ client.Client }

func (staleCache) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	return apierrors.NewNotFound(corev1.Resource("configmaps"), key.Name)
}

// A child created by the previous reconcile but not yet in the cache is patched, not
// reported as a failed reconcile ("already exists") that then waits out the retry backoff.
func TestCreateOrPatchWhenTheCacheIsBehind(t *testing.T) {
	g := NewWithT(t)
	scheme := runtime.NewScheme()
	g.Expect(corev1.AddToScheme(scheme)).To(Succeed())
	g.Expect(v1alpha1.AddToScheme(scheme)).To(Succeed())
	owner := &v1alpha1.StateComparison{ObjectMeta: metav1.ObjectMeta{Name: "wi", Namespace: "ns", UID: "u1"}}
	existing := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "wi-plan", Namespace: "ns"}, Data: map[string]string{planKey: "old"}}
	api := fake.NewClientBuilder().WithScheme(scheme).WithObjects(existing).Build()
	r := &Runner{Client: staleCache{api}, APIReader: api, Scheme: scheme}

	w := &workload{owner: owner, kind: kindStateComparison, command: "compare", plan: []byte(`{"new":true}`)}
	g.Expect(r.reconcilePlan(context.Background(), w)).To(Succeed())

	got := &corev1.ConfigMap{}
	g.Expect(api.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "wi-plan"}, got)).To(Succeed())
	g.Expect(got.Data).To(Equal(map[string]string{planKey: `{"new":true}`}))
	g.Expect(metav1.GetControllerOf(got).Name).To(Equal("wi"))

	// Without the API reader the error is the create's, as before.
	r.APIReader = nil
	_, err := r.createOrPatch(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "wi-plan", Namespace: "ns"}},
		func() error { return nil })
	g.Expect(apierrors.IsAlreadyExists(err)).To(BeTrue())
}

// A reconcile that moved nothing in status sends no PATCH; one that did sends one.
func TestPatchStatusSendsNothingWhenNothingChanged(t *testing.T) {
	g := NewWithT(t)
	scheme := runtime.NewScheme()
	g.Expect(v1alpha1.AddToScheme(scheme)).To(Succeed())
	ds := &v1alpha1.DistrictSource{ObjectMeta: metav1.ObjectMeta{Name: "wi", Namespace: "ns"}}
	ds.Status.LastRunNow = "1"
	patches := 0
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(ds).WithStatusSubresource(ds).
		WithInterceptorFuncs(interceptor.Funcs{SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			patches++
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		}}).Build()
	ctx := context.Background()

	got := &v1alpha1.DistrictSource{}
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(ds), got)).To(Succeed())
	_, err := patchStatus(ctx, c, nil, got, client.MergeFrom(got.DeepCopy()), ctrl.Result{}, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(patches).To(Equal(0))

	base := client.MergeFrom(got.DeepCopy())
	got.Status.LastRunNow = "2"
	_, err = patchStatus(ctx, c, nil, got, base, ctrl.Result{}, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(patches).To(Equal(1))
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(ds), got)).To(Succeed())
	g.Expect(got.Status.LastRunNow).To(Equal("2"))
}

// A DistrictSource is not reconciled again for the children its own reconcile created, but
// a child deleted or edited by someone else is put back.
func TestChildrenPutBackButTheirCreationIgnored(t *testing.T) {
	g := NewWithT(t)
	p := childChanges()
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "wi", Namespace: "ns"}}
	g.Expect(p.Create(event.CreateEvent{Object: cj})).To(BeFalse())
	g.Expect(p.Update(event.UpdateEvent{ObjectOld: cj, ObjectNew: cj})).To(BeTrue())
	g.Expect(p.Delete(event.DeleteEvent{Object: cj})).To(BeTrue())

	ns, ds := madison(t)
	ctx := context.Background()
	var uid types.UID
	g.Eventually(func(g Gomega) { uid = getCronJob(g, ns, ds.Name).UID }).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Expect(env.c.Delete(ctx, &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ds.Name}})).To(Succeed())
	g.Eventually(func(g Gomega) { g.Expect(getCronJob(g, ns, ds.Name).UID).NotTo(Equal(uid)) }).
		WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	cm, _ := getPlan(g, ns, ds.Name)
	cm.Data[planKey] = "{}"
	g.Expect(env.c.Update(ctx, cm)).To(Succeed())
	g.Eventually(func(g Gomega) {
		_, p := getPlan(g, ns, ds.Name)
		g.Expect(p.District.NCESID).To(Equal("5508520"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

// A reconcile that reads its object from a cache that has not seen this manager's last
// status write does not take "nothing changed" for an answer: it writes the whole status
// conditionally, and a conflict looks again shortly instead of failing.
func TestStatusFromALaggingCacheIsNotSkipped(t *testing.T) {
	g := NewWithT(t)
	scheme := runtime.NewScheme()
	g.Expect(v1alpha1.AddToScheme(scheme)).To(Succeed())
	ds := &v1alpha1.DistrictSource{ObjectMeta: metav1.ObjectMeta{Name: "wi", Namespace: "ns", UID: "u1"}}
	ds.Status.LastRunNow = "1"
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(ds).WithStatusSubresource(ds).Build()
	ctx := context.Background()
	writes := newStatusWrites()

	cached := &v1alpha1.DistrictSource{}
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(ds), cached)).To(Succeed())
	got := cached.DeepCopy()
	base := client.MergeFrom(got.DeepCopy())
	got.Status.LastRunNow = "2" // the first reconcile stalls, say
	_, err := patchStatus(ctx, c, writes, got, base, ctrl.Result{}, nil)
	g.Expect(err).NotTo(HaveOccurred())

	// The next reconcile still reads the old copy and computes its status again: no change
	// against that copy, but the API server holds "2".
	stale := cached.DeepCopy()
	res, err := patchStatus(ctx, c, writes, stale, client.MergeFrom(cached.DeepCopy()), ctrl.Result{}, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.RequeueAfter).To(BeNumerically(">", 0), "a stale read is looked at again")

	// Once the cache has the write, an unchanged status sends nothing.
	fresh := &v1alpha1.DistrictSource{}
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(ds), fresh)).To(Succeed())
	g.Expect(writes.stale(fresh)).To(BeFalse())
	g.Expect(fresh.Status.LastRunNow).To(Equal("2"))
}
