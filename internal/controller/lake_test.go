package controller

import (
	"context"
	"encoding/json"
	"net"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/testenv"
)

func getLake(g Gomega, ns, name string) *v1alpha1.Lake {
	l := &v1alpha1.Lake{}
	g.Expect(env.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, l)).To(Succeed())
	return l
}

func TestLakeSecretNotFound(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	create(t, newLake(ns, "statewide", "lake-creds"))
	g.Eventually(func(g Gomega) {
		l := getLake(g, ns, "statewide")
		r := expectCondition(g, l.Status.Conditions, l.Generation, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound)
		g.Expect(r.Message).To(Equal(`Secret "lake-creds" (credentialsSecretRef) not found in namespace ` + ns))
		expectCondition(g, l.Status.Conditions, l.Generation, v1alpha1.StalledCondition, metav1.ConditionTrue, v1alpha1.ReasonSecretNotFound)
		g.Expect(l.Status.URL).To(Equal("s3://districtlake/v1"))
		g.Expect(l.Status.ObservedGeneration).To(BeZero())
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// A Secret without the secret key is as good as none.
	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "half-creds", Namespace: ns},
		StringData: map[string]string{v1alpha1.LakeSecretKeyAccessKeyID: accessKeyIDValue},
	})
	update(t, &v1alpha1.Lake{ObjectMeta: metav1.ObjectMeta{Name: "statewide", Namespace: ns}}, func(l *v1alpha1.Lake) {
		l.Spec.CredentialsSecretRef.Name = "half-creds"
	})
	g.Eventually(func(g Gomega) {
		l := getLake(g, ns, "statewide")
		r := expectCondition(g, l.Status.Conditions, l.Generation, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound)
		g.Expect(r.Message).To(Equal(`Secret "half-creds" has no secretAccessKey`))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

// TestLakeUnreachable checks a Lake whose endpoint refuses connections: the real bucket
// check fails, Ready says why, and the secret appears nowhere.
func TestLakeUnreachable(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	// A port that was free a moment ago: nothing listens there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	g.Expect(err).NotTo(HaveOccurred())
	endpoint := ln.Addr().String()
	g.Expect(ln.Close()).To(Succeed())
	lake := newLake(ns, "statewide", "lake-creds")
	lake.Spec.Endpoint = endpoint
	lake.Spec.Prefix = ""
	create(t, lakeSecret(ns, "lake-creds", secretAccessKeyValue), lake)
	g.Eventually(func(g Gomega) {
		l := getLake(g, ns, "statewide")
		r := expectCondition(g, l.Status.Conditions, l.Generation, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonBucketUnreachable)
		g.Expect(r.Message).To(ContainSubstring(endpoint))
		g.Expect(r.Message).To(ContainSubstring("connection refused"))
		g.Expect(cond(l.Status.Conditions, v1alpha1.StalledCondition)).To(BeNil())
		g.Expect(l.Status.URL).To(Equal("s3://districtlake"))
		b, err := json.Marshal(l)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(string(b)).NotTo(ContainSubstring(secretAccessKeyValue))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

// TestLakeBucketCheck checks Lakes against a real MinIO: a reachable bucket makes the Lake
// Ready, a missing bucket and a wrong secret each say so, and no secret reaches status.
func TestLakeBucketCheck(t *testing.T) {
	g := NewWithT(t)
	m := testenv.StartMinIO(t)
	m.CreateBucket(t, "districtlake")
	ns := newNamespace(t)
	good := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "minio-creds", Namespace: ns},
		StringData: map[string]string{v1alpha1.LakeSecretKeyAccessKeyID: m.AccessKey, v1alpha1.LakeSecretKeySecretAccessKey: m.SecretKey},
	}
	wrongSecret := "SECRET-wrong-8d1f-do-not-leak"
	wrong := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "wrong-creds", Namespace: ns},
		StringData: map[string]string{v1alpha1.LakeSecretKeyAccessKeyID: m.AccessKey, v1alpha1.LakeSecretKeySecretAccessKey: wrongSecret},
	}
	lake := func(name, bucket, secret string) *v1alpha1.Lake {
		l := newLake(ns, name, secret)
		l.Spec.Endpoint = m.Endpoint
		l.Spec.Bucket = bucket
		return l
	}
	create(t, good, wrong, lake("ok", "districtlake", "minio-creds"), lake("nobucket", "no-such-bucket", "minio-creds"),
		lake("badkey", "districtlake", "wrong-creds"))

	g.Eventually(func(g Gomega) {
		l := getLake(g, ns, "ok")
		r := expectCondition(g, l.Status.Conditions, l.Generation, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
		g.Expect(r.Message).To(Equal("Bucket districtlake at " + m.Endpoint + " is reachable"))
		g.Expect(l.Status.ObservedGeneration).To(Equal(l.Generation))
		g.Expect(l.Status.LastCheckedTime).NotTo(BeNil())
		g.Expect(l.Status.LastCheckedTime.Time).To(BeTemporally("==", env.clock.Now().Truncate(1e9)))
		g.Expect(l.Status.URL).To(Equal("s3://districtlake/v1"))
		g.Expect(cond(l.Status.Conditions, v1alpha1.StalledCondition)).To(BeNil())
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	g.Eventually(func(g Gomega) {
		l := getLake(g, ns, "nobucket")
		r := expectCondition(g, l.Status.Conditions, l.Generation, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonBucketNotFound)
		g.Expect(r.Message).To(ContainSubstring(`bucket "no-such-bucket"`))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	g.Eventually(func(g Gomega) {
		l := getLake(g, ns, "badkey")
		r := expectCondition(g, l.Status.Conditions, l.Generation, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonBucketUnreachable)
		g.Expect(r.Message).To(ContainSubstring("SignatureDoesNotMatch"))
		b, err := json.Marshal(l)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(string(b)).NotTo(ContainSubstring(wrongSecret))
		g.Expect(string(b)).NotTo(ContainSubstring(m.SecretKey))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}
