package controller

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/testenv"
)

// abortRuleServer is a local S3 endpoint whose bucket districtlake exists and has a
// lifecycle rule aborting incomplete multipart uploads: MinIO refuses that rule, so the
// case of a bucket that has one is served from here.
func abortRuleServer(t *testing.T) *httptest.Server {
	const lifecycleXML = `<?xml version="1.0" encoding="UTF-8"?>
<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ID>abort-incomplete-uploads</ID>
<Filter><Prefix></Prefix></Filter><Status>Enabled</Status>
<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Trim(r.URL.Path, "/") != "districtlake" {
			http.Error(w, "no such bucket", http.StatusNotFound)
			return
		}
		q := r.URL.Query()
		w.Header().Set("Content-Type", "application/xml")
		switch {
		case r.Method == http.MethodHead:
		case q.Has("location"):
			_, _ = w.Write([]byte(`<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">us-east-1</LocationConstraint>`))
		case q.Has("lifecycle"):
			_, _ = w.Write([]byte(lifecycleXML))
		default:
			http.Error(w, "not served here", http.StatusNotImplemented)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestLakeUploadCleanup: the Lake check reports a bucket without a lifecycle rule that
// aborts incomplete multipart uploads (UploadCleanup False, with the command that sets
// one) and one with such a rule (True); either way the Lake is Ready: the rule is advice.
func TestLakeUploadCleanup(t *testing.T) {
	g := NewWithT(t)
	m := testenv.StartMinIO(t)
	m.CreateBucket(t, "districtlake")
	withRule := abortRuleServer(t)
	ns := newNamespace(t)
	creds := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "minio-creds", Namespace: ns},
		StringData: map[string]string{v1alpha1.LakeSecretKeyAccessKeyID: m.AccessKey, v1alpha1.LakeSecretKeySecretAccessKey: m.SecretKey},
	}
	lake := func(name, endpoint string) *v1alpha1.Lake {
		l := newLake(ns, name, "minio-creds")
		l.Spec.Endpoint = endpoint
		return l
	}
	create(t, creds, lake("minio", m.Endpoint), lake("with-rule", strings.TrimPrefix(withRule.URL, "http://")))

	g.Eventually(func(g Gomega) {
		l := getLake(g, ns, "minio")
		expectCondition(g, l.Status.Conditions, l.Generation, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
		c := expectCondition(g, l.Status.Conditions, l.Generation, v1alpha1.UploadCleanupCondition, metav1.ConditionFalse, v1alpha1.ReasonNoAbortRule)
		g.Expect(c.Message).To(HavePrefix("Bucket districtlake at " + m.Endpoint + " has no lifecycle rule that aborts incomplete multipart uploads under s3://districtlake/v1"))
		g.Expect(c.Message).To(ContainSubstring(`aws s3api put-bucket-lifecycle-configuration --bucket districtlake --lifecycle-configuration '{"Rules":[{"ID":"abort-incomplete-uploads","Status":"Enabled","Filter":{"Prefix":""},"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":1}}]}'`))
		g.Expect(c.Message).NotTo(ContainSubstring(m.SecretKey))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	g.Eventually(func(g Gomega) {
		l := getLake(g, ns, "with-rule")
		expectCondition(g, l.Status.Conditions, l.Generation, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
		c := expectCondition(g, l.Status.Conditions, l.Generation, v1alpha1.UploadCleanupCondition, metav1.ConditionTrue, v1alpha1.ReasonAbortRuleFound)
		g.Expect(c.Message).To(Equal("Bucket districtlake at " + strings.TrimPrefix(withRule.URL, "http://") +
			" has a lifecycle rule that aborts incomplete multipart uploads under s3://districtlake/v1"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}
