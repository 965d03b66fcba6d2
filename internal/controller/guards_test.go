package controller

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/guard"
)

// sourceCredential labels a Secret that source headers may read.
var sourceCredential = map[string]string{guard.SourceCredentialLabel: "true"}

func expectStalledWith(t *testing.T, ns, name, reason, message string) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		ds := getDS(g, ns, name)
		expectCondition(g, ds.Status.Conditions, ds.Generation, v1alpha1.ReadyCondition, metav1.ConditionFalse, reason)
		c := expectCondition(g, ds.Status.Conditions, ds.Generation, v1alpha1.StalledCondition, metav1.ConditionTrue, reason)
		g.Expect(c.Message).To(Equal(message))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

func expectNeverRunReady(t *testing.T, ns, name string) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		ds := getDS(g, ns, name)
		expectCondition(g, ds.Status.Conditions, ds.Generation, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonNeverRun)
		g.Expect(cond(ds.Status.Conditions, v1alpha1.StalledCondition)).To(BeNil())
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

// TestHeaderSecretsMustOptIn: a district author who may create DistrictSources must not be
// able to send the Lake's keys, or any other Secret of the namespace, to a server of theirs
// through a header. Only Secrets labelled districtlake.io/source-credential: "true" fill a
// header; anything else stalls the DistrictSource with no CronJob and no plan naming it.
func TestHeaderSecretsMustOptIn(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	create(t, lakeSecret(ns, "lake-creds", secretAccessKeyValue), newLake(ns, "statewide", "lake-creds"),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db-password", Namespace: ns}, StringData: map[string]string{"token": "x"}})
	ds := newDS(ns, "wi-5508520", "statewide")
	ds.Spec.Sources[1].ConfigMapRef = nil
	inline := "agency_name\nMPD\n"
	ds.Spec.Sources[1].Inline = &inline
	ds.Spec.Sources[0].HTTP.Headers = []v1alpha1.HTTPHeader{{
		Name: "Authorization", ValueFrom: v1alpha1.SecretKeyReference{Name: "lake-creds", Key: "secretAccessKey"},
	}}
	create(t, ds)
	expectStalledWith(t, ns, ds.Name, v1alpha1.ReasonSecretNotAllowed,
		`source "crdc-support", header Authorization: Secret `+ns+`/lake-creds holds the credentials of Lake statewide: a source header may not read a Lake's credentials`)
	g.Expect(env.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: ds.Name}, &batchv1.CronJob{})).
		NotTo(Succeed(), "a CronJob was created for a refused DistrictSource")

	// Labelling the Lake's Secret does not help.
	update(t, lakeSecret(ns, "lake-creds", ""), func(s *corev1.Secret) { s.Labels = sourceCredential })
	time.Sleep(3 * 300 * time.Millisecond) // a few rechecks
	expectStalledWith(t, ns, ds.Name, v1alpha1.ReasonSecretNotAllowed,
		`source "crdc-support", header Authorization: Secret `+ns+`/lake-creds holds the credentials of Lake statewide: a source header may not read a Lake's credentials`)

	// Another Secret of the namespace, not labelled: refused.
	update(t, ds, func(ds *v1alpha1.DistrictSource) {
		ds.Spec.Sources[0].HTTP.Headers[0].ValueFrom = v1alpha1.SecretKeyReference{Name: "db-password", Key: "token"}
	})
	expectStalledWith(t, ns, ds.Name, v1alpha1.ReasonSecretNotAllowed,
		`source "crdc-support", header Authorization: Secret `+ns+`/db-password is not labelled districtlake.io/source-credential: "true": a source header may read only Secrets labelled so`)

	// Its owner opts it in: the controller sees it on its next look and goes on.
	update(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db-password", Namespace: ns}},
		func(s *corev1.Secret) { s.Labels = sourceCredential })
	expectNeverRunReady(t, ns, ds.Name)
}

// TestSecondDistrictSourceOfADistrictStalls: two DistrictSources of one district on one
// Lake would overwrite each other's partitions. The newer one stalls naming the older,
// which keeps running; once the older is gone the newer takes over.
func TestSecondDistrictSourceOfADistrictStalls(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	create(t, lakeSecret(ns, "lake-creds", secretAccessKeyValue), newLake(ns, "statewide", "lake-creds"),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "contracts", Namespace: ns}, Data: map[string]string{"contracts.csv": "Agency\nMPD\n"}})
	first := newDS(ns, "zz-madison", "statewide")
	first.Spec.Sources[1].ConfigMapRef.Name = "contracts"
	create(t, first)
	expectNeverRunReady(t, ns, first.Name)
	time.Sleep(1100 * time.Millisecond) // creation timestamps have a resolution of one second

	second := newDS(ns, "aa-madison-copy", "statewide") // sorts first by name: age decides
	second.Spec.Sources[1].ConfigMapRef.Name = "contracts"
	create(t, second)
	expectStalledWith(t, ns, second.Name, v1alpha1.ReasonDuplicateDistrict,
		"DistrictSource "+ns+"/zz-madison already writes district WI 5508520 to Lake statewide: one DistrictSource per district and Lake")
	g.Expect(env.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: second.Name}, &batchv1.CronJob{})).
		NotTo(Succeed(), "the duplicate got a CronJob")
	expectNeverRunReady(t, ns, first.Name)

	// Another district on the same Lake is not a duplicate.
	other := newDS(ns, "wi-other", "statewide")
	other.Spec.District.NCESID = "5509600"
	other.Spec.Sources[1].ConfigMapRef.Name = "contracts"
	create(t, other)
	expectNeverRunReady(t, ns, other.Name)

	g.Expect(env.c.Delete(context.Background(), first)).To(Succeed())
	expectNeverRunReady(t, ns, second.Name)
}
