package controller

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/districtlake/districtlake/api/v1alpha1"
)

// TestReferenceChangesAreWatched: the ConfigMaps and Secrets a DistrictSource's sources read
// come from the manager's cache, which holds their keys but no value and no Secret that a
// header may not read; a change to one still reaches the DistrictSource at once, even a
// Ready one that nothing else would look at again.
func TestReferenceChangesAreWatched(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	create(t, lakeSecret(ns, "lake-creds", secretAccessKeyValue), newLake(ns, "statewide", "lake-creds"),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "api-token", Namespace: ns, Labels: sourceCredential},
			StringData: map[string]string{"token": tokenValue}})
	ds := newDS(ns, "wi-5508520", "statewide")
	ds.Spec.Sources[0].HTTP.Headers = []v1alpha1.HTTPHeader{{
		Name: "Authorization", ValueFrom: v1alpha1.SecretKeyReference{Name: "api-token", Key: "token"},
	}}
	create(t, ds)
	expectNeverRunReady(t, ns, ds.Name)

	// The cache holds the keys, not the values, and no Secret a header may not read.
	sec := &corev1.Secret{}
	g.Expect(env.cache.Get(ctx, client.ObjectKey{Namespace: ns, Name: "api-token"}, sec)).To(Succeed())
	g.Expect(sec.Data).To(HaveKey("token"))
	g.Expect(sec.Data["token"]).To(BeEmpty(), "a Secret value is held in the manager's cache")
	g.Expect(apierrors.IsNotFound(env.cache.Get(ctx, client.ObjectKey{Namespace: ns, Name: "lake-creds"}, &corev1.Secret{}))).
		To(BeTrue(), "a Secret not labelled as a source credential is in the manager's cache")
	cm := &corev1.ConfigMap{}
	g.Expect(env.cache.Get(ctx, client.ObjectKey{Namespace: ns, Name: "wi-5508520-contracts"}, cm)).To(Succeed())
	g.Expect(cm.Data).To(HaveKeyWithValue("contracts.csv", ""))
	plan := &corev1.ConfigMap{}
	g.Expect(env.cache.Get(ctx, client.ObjectKey{Namespace: ns, Name: planConfigMapName(ds.Name)}, plan)).To(Succeed())
	g.Expect(plan.Data[planKey]).NotTo(BeEmpty(), "the plan ConfigMap's data is needed to compare it")

	// The ConfigMap loses the key the source reads: the Ready DistrictSource stalls.
	update(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "wi-5508520-contracts", Namespace: ns}},
		func(cm *corev1.ConfigMap) { cm.Data = map[string]string{"other.csv": "x"} })
	expectStalledWith(t, ns, ds.Name, v1alpha1.ReasonConfigMapNotFound,
		"ConfigMap "+ns+`/wi-5508520-contracts has no key "contracts.csv", which source "contracts" reads`)
	update(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "wi-5508520-contracts", Namespace: ns}},
		func(cm *corev1.ConfigMap) { cm.Data["contracts.csv"] = "Agency\nMPD\n" })
	expectNeverRunReady(t, ns, ds.Name)

	// The Secret loses its key, then its label: each is seen at once.
	update(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "api-token", Namespace: ns}},
		func(s *corev1.Secret) { s.Data = map[string][]byte{"other": []byte(tokenValue)} })
	expectStalledWith(t, ns, ds.Name, v1alpha1.ReasonSecretNotFound,
		"Secret "+ns+`/api-token has no key "token" (it fills DISTRICTLAKE_SRC_CRDC_SUPPORT_HEADER_0)`)
	update(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "api-token", Namespace: ns}},
		func(s *corev1.Secret) { s.Data = map[string][]byte{"token": []byte(tokenValue)} })
	expectNeverRunReady(t, ns, ds.Name)
	update(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "api-token", Namespace: ns}},
		func(s *corev1.Secret) { s.Labels = nil })
	expectStalledWith(t, ns, ds.Name, v1alpha1.ReasonSecretNotAllowed,
		`source "crdc-support", header Authorization: Secret `+ns+`/api-token is not labelled districtlake.io/source-credential: "true": a source header may read only Secrets labelled so`)
}
