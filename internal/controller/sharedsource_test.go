package controller

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/land"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/summary"
)

// sharedDS is Madison reading its CRDC School Support rows through a SharedSource.
func sharedDS(ns, name, shared string) *v1alpha1.DistrictSource {
	ds := newDS(ns, name, "statewide")
	ds.Spec.Sources[0].HTTP = nil
	ds.Spec.Sources[0].Format = ""
	ds.Spec.Sources[0].SharedSourceRef = &v1alpha1.LocalObjectReference{Name: shared}
	return ds
}

// landed finishes a run-now Job of shs with a summary that landed revision rev in layout
// (land.LayoutStateFile, or an earlier release's layout).
func landed(t *testing.T, shs *v1alpha1.SharedSource, value, rev, layout string) {
	t.Helper()
	job := runNow(t, shs, kindSharedSource, value)
	finishJob(t, job, true, encodeSummary(t, summary.Summary{
		Outcome: summary.Succeeded, Message: "landed revision " + rev,
		Artifact: &summary.Artifact{
			Revision: rev, Digest: "sha256:" + rev + strings.Repeat("0", 48), Bytes: 62017, Rows: 1000, Districts: 40,
			LandedAt: "2026-12-03T06:00:00Z", Prefix: land.RevisionPrefix(shs.Namespace, shs.Name, rev),
			ManifestKey: land.ManifestKey(shs.Namespace, shs.Name), ETag: "e-" + rev, Layout: layout,
		},
	}))
}

// TestSharedSource: a DistrictSource reading a SharedSource runs nothing and says
// SharedSourceNotReady until the SharedSource has landed a revision; then its plan reads
// that revision, and a new revision re-renders it without any change to the district.
func TestSharedSource(t *testing.T) {
	ctx := context.Background()
	g := NewWithT(t)
	ns := newNamespace(t)
	token := "SECRET-origin-token-51c0"
	create(t, lakeSecret(ns, "lake-creds", secretAccessKeyValue), newLake(ns, "statewide", "lake-creds"),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "origin", Namespace: ns}, StringData: map[string]string{"token": token}})
	shs := sharedSource(ns, "crdc-2021-22-school-support", func(s *v1alpha1.SharedSource) {
		s.Spec.HTTP.Headers = []v1alpha1.HTTPHeader{{Name: "Authorization", ValueFrom: v1alpha1.SecretKeyReference{Name: "origin", Key: "token"}}}
	})
	ds := sharedDS(ns, "wi-5508520", shs.Name)
	orphan := sharedDS(ns, "wi-5500001", "no-such-file")
	orphan.Spec.District.NCESID = "5500001"
	create(t, ds, orphan)

	// No SharedSource yet: not found.
	g.Eventually(func(g Gomega) {
		got := getDS(g, ns, orphan.Name)
		c := expectCondition(g, got.Status.Conditions, got.Generation, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonSharedSourceNotReady)
		g.Expect(c.Message).To(ContainSubstring(`SharedSource ` + ns + `/no-such-file, which source "crdc-support" reads, not found`))
		expectCondition(g, got.Status.Conditions, got.Generation, v1alpha1.StalledCondition, metav1.ConditionTrue, v1alpha1.ReasonSharedSourceNotReady)
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// The SharedSource exists but has landed nothing: the district runs nothing and waits,
	// Reconciling, without a stall (nothing in its spec is wrong).
	create(t, shs)
	g.Eventually(func(g Gomega) {
		got := getDS(g, ns, ds.Name)
		c := expectCondition(g, got.Status.Conditions, got.Generation, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonSharedSourceNotReady)
		g.Expect(c.Message).To(Equal(`SharedSource ` + ns + `/` + shs.Name + `, which source "crdc-support" reads, has not landed a revision yet`))
		r := expectCondition(g, got.Status.Conditions, got.Generation, v1alpha1.ReconcilingCondition, metav1.ConditionTrue, v1alpha1.ReasonSharedSourceNotReady)
		g.Expect(r.Message).To(Equal("Waiting: " + c.Message))
		g.Expect(cond(got.Status.Conditions, v1alpha1.StalledCondition)).To(BeNil())
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	err := env.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: ds.Name}, &batchv1.CronJob{})
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "a DistrictSource without a landed shared revision has a CronJob: %v", err)

	// The SharedSource's own children: a land plan (no secret value in it) and a CronJob.
	g.Eventually(func(g Gomega) {
		cm := &corev1.ConfigMap{}
		g.Expect(env.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: shs.Name + "-plan"}, cm)).To(Succeed())
		g.Expect(cm.Data["plan.json"]).NotTo(ContainSubstring(token))
		g.Expect(cm.Data["plan.json"]).NotTo(ContainSubstring(secretAccessKeyValue))
		var p plan.Land
		g.Expect(json.Unmarshal([]byte(cm.Data["plan.json"]), &p)).To(Succeed())
		g.Expect(p.Validate()).To(Succeed())
		g.Expect(p.Source.HTTP.Member).To(Equal("SCH/School Support.csv"))
		g.Expect(p.Previous).To(BeNil())
		cj := getCronJob(g, ns, shs.Name)
		g.Expect(cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args[:2]).To(Equal([]string{"land", "--plan"}))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// A revision lands: the SharedSource records it, the district renders it and is scheduled.
	// This one was landed by a release before layouts were recorded: the district reads it
	// at its own keys (a folder per district) until a new revision lands.
	landed(t, shs, "1", "aaaaaaaaaaaaaaaa", "")
	g.Eventually(func(g Gomega) {
		got := &v1alpha1.SharedSource{}
		g.Expect(env.c.Get(ctx, client.ObjectKeyFromObject(shs), got)).To(Succeed())
		g.Expect(got.Status.Artifact).NotTo(BeNil())
		g.Expect(got.Status.Artifact.Revision).To(Equal("aaaaaaaaaaaaaaaa"))
		g.Expect(got.Status.Artifact.Districts).To(Equal(int32(40)))
		expectCondition(g, got.Status.Conditions, got.Generation, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
		_, p := getPlan(g, ns, ds.Name)
		g.Expect(p.Sources[0].Landed).NotTo(BeNil())
		g.Expect(p.Sources[0].Landed.Revision).To(Equal("aaaaaaaaaaaaaaaa"))
		g.Expect(p.Sources[0].Landed.Key).To(Equal(land.RevisionPrefix(ns, shs.Name, "aaaaaaaaaaaaaaaa") + "/district=5508520/data.csv"))
		g.Expect(p.Sources[0].Format).To(Equal("crdc"))
		g.Expect(p.Sources[0].SchoolYear).To(Equal("2020-21"))
		getCronJob(g, ns, ds.Name)
		// The next landing is conditional on what this one saw.
		cm := &corev1.ConfigMap{}
		g.Expect(env.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: shs.Name + "-plan"}, cm)).To(Succeed())
		var lp plan.Land
		g.Expect(json.Unmarshal([]byte(cm.Data["plan.json"]), &lp)).To(Succeed())
		g.Expect(lp.Previous).To(Equal(&plan.Previous{ETag: "e-aaaaaaaaaaaaaaaa", Revision: "aaaaaaaaaaaaaaaa"}))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// A corrected release lands a new revision: the district's plan follows on its own.
	gen := getDSNow(t, ns, ds.Name).Generation
	landed(t, shs, "2", "bbbbbbbbbbbbbbbb", land.LayoutStateFile)
	g.Eventually(func(g Gomega) {
		_, p := getPlan(g, ns, ds.Name)
		g.Expect(p.Sources[0].Landed.Revision).To(Equal("bbbbbbbbbbbbbbbb"))
		prefix := land.RevisionPrefix(ns, shs.Name, "bbbbbbbbbbbbbbbb")
		g.Expect(*p.Sources[0].Landed).To(Equal(plan.Landed{Lake: p.Sources[0].Landed.Lake, Key: prefix + "/fips=55.csv",
			Index: prefix + "/fips=55.index", District: "5508520", Revision: "bbbbbbbbbbbbbbbb", SharedSource: shs.Name}))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Expect(getDSNow(t, ns, ds.Name).Generation).To(Equal(gen), "the district itself was not changed")

	// Nothing secret (the header's token, the Lake's keys) reached the SharedSource's
	// ConfigMap, CronJob, status or events, nor the district's.
	expectNoSecrets(t, ns, shs.Name, ds.Name, token, secretAccessKeyValue, accessKeyIDValue)
}

// expectNoSecrets checks that none of the secret values is in the plan ConfigMaps, the
// CronJobs and the status of the named SharedSource and DistrictSource, nor in any event
// of the namespace. A Secret reaches a Job only as an environment variable from the
// Secret, which the CronJob names.
func expectNoSecrets(t *testing.T, ns, shared, district string, secrets ...string) {
	t.Helper()
	ctx := context.Background()
	g := NewWithT(t)
	var texts []string
	add := func(what string, v any) {
		b, err := json.Marshal(v)
		g.Expect(err).NotTo(HaveOccurred())
		texts = append(texts, what+": "+string(b))
	}
	for _, name := range []string{shared, district} {
		cm := &corev1.ConfigMap{}
		g.Expect(env.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name + "-plan"}, cm)).To(Succeed())
		add("ConfigMap "+cm.Name, cm)
		cj := &batchv1.CronJob{}
		g.Expect(env.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, cj)).To(Succeed())
		add("CronJob "+cj.Name, cj.Spec)
	}
	got := &v1alpha1.SharedSource{}
	g.Expect(env.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: shared}, got)).To(Succeed())
	add("SharedSource status", got.Status)
	add("DistrictSource status", getDSNow(t, ns, district).Status)
	var events corev1.EventList
	g.Expect(env.c.List(ctx, &events, client.InNamespace(ns))).To(Succeed())
	g.Expect(events.Items).NotTo(BeEmpty())
	for _, e := range events.Items {
		texts = append(texts, "event "+e.Reason+": "+e.Message)
	}
	for _, text := range texts {
		for _, secret := range secrets {
			g.Expect(text).NotTo(ContainSubstring(secret))
		}
	}
}

// TestSharedSourceOtherLake: a DistrictSource may not read a SharedSource landed in
// another Lake.
func TestSharedSourceOtherLake(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	create(t, lakeSecret(ns, "lake-creds", secretAccessKeyValue), newLake(ns, "statewide", "lake-creds"), newLake(ns, "federal", "lake-creds"))
	shs := sharedSource(ns, "crdc", func(s *v1alpha1.SharedSource) { s.Spec.LakeRef.Name = "federal" })
	ds := sharedDS(ns, "wi-5508520", "crdc")
	create(t, shs, ds)
	g.Eventually(func(g Gomega) {
		got := getDS(g, ns, ds.Name)
		c := expectCondition(g, got.Status.Conditions, got.Generation, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonSharedSourceNotReady)
		g.Expect(c.Message).To(ContainSubstring(`lands in Lake "federal", not in this DistrictSource's Lake "statewide"`))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

func getDSNow(t *testing.T, ns, name string) *v1alpha1.DistrictSource {
	t.Helper()
	ds := &v1alpha1.DistrictSource{}
	if err := env.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, ds); err != nil {
		t.Fatal(err)
	}
	return ds
}

// TestSharedSourceRevisionsInOneSecond: a revision landed right after another (a corrected
// release), both runs created and ended within one second, is the one status records: the
// Jobs' creationTimestamps tie, and the later run-now Job's hashed name sorts first.
func TestSharedSourceRevisionsInOneSecond(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	create(t, lakeSecret(ns, "lake-creds", secretAccessKeyValue), newLake(ns, "statewide", "lake-creds"))
	shs := sharedSource(ns, "crdc-support", nil)
	create(t, shs)
	landed(t, shs, "2", "bbbbbbbbbbbbbbbb", land.LayoutStateFile)
	landed(t, shs, "3", "dddddddddddddddd", land.LayoutStateFile)
	g.Eventually(func(g Gomega) {
		got := &v1alpha1.SharedSource{}
		g.Expect(env.c.Get(context.Background(), client.ObjectKeyFromObject(shs), got)).To(Succeed())
		g.Expect(got.Status.Artifact).NotTo(BeNil())
		g.Expect(got.Status.Artifact.Revision).To(Equal("dddddddddddddddd"))
		g.Expect(got.Status.LastRun).NotTo(BeNil())
		g.Expect(got.Status.LastRun.Job).To(Equal(runNowJobName(shs.Name, "3")))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}
