package controller

import (
	"context"
	"encoding/json"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/summary"
)

func TestStateComparison(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	sc := &v1alpha1.StateComparison{
		ObjectMeta: metav1.ObjectMeta{Name: "wi", Namespace: ns},
		Spec: v1alpha1.StateComparisonSpec{
			State:        "WI",
			LakeRef:      v1alpha1.LocalObjectReference{Name: "statewide"},
			ScheduleSpec: v1alpha1.ScheduleSpec{Schedule: "0 6 * * 1", TimeZone: ptr.To("America/Chicago")},
			SchoolYears:  []v1alpha1.SchoolYear{"2020-21"},
			Standards:    v1alpha1.Standards{Counselor: 300},
			Costs:        &v1alpha1.Costs{Counselor: ptr.To[int64](62000)},
		},
	}
	create(t, lakeSecret(ns, "lake-creds", secretAccessKeyValue), newLake(ns, "statewide", "lake-creds"), sc)

	g.Eventually(func(g Gomega) {
		cm := &corev1.ConfigMap{}
		g.Expect(env.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "wi-plan"}, cm)).To(Succeed())
		g.Expect(metav1.GetControllerOf(cm).Kind).To(Equal("StateComparison"))
		var p plan.Compare
		g.Expect(json.Unmarshal([]byte(cm.Data["plan.json"]), &p)).To(Succeed())
		g.Expect(p.Validate()).To(Succeed())
		g.Expect(p.State).To(Equal("WI"))
		g.Expect(p.SchoolYears).To(Equal([]string{"2020-21"}))
		// Unset standards take the recommended defaults.
		g.Expect(p.Standards).To(Equal(dataset.Standards{Counselor: 300, Nurse: 750, Psychologist: 500, SocialWorker: 250}))
		g.Expect(*p.Costs.Counselor).To(Equal(int64(62000)))
		g.Expect(p.Lake.Bucket).To(Equal("districtlake"))

		cj := getCronJob(g, ns, "wi")
		g.Expect(metav1.GetControllerOf(cj).Kind).To(Equal("StateComparison"))
		g.Expect(cj.Spec.Schedule).To(Equal("0 6 * * 1"))
		c := cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
		g.Expect(c.Args).To(Equal([]string{"compare", "--plan", "/etc/districtlake/plan.json"}))
		g.Expect(c.SecurityContext.ReadOnlyRootFilesystem).To(Equal(ptr.To(true)))
		refs := map[string]string{}
		for _, e := range c.Env {
			g.Expect(e.Value).To(BeEmpty())
			if e.ValueFrom.SecretKeyRef != nil {
				refs[e.Name] = e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
			}
		}
		g.Expect(refs).To(Equal(map[string]string{
			plan.EnvLakeAccessKeyID:     "lake-creds/accessKeyID",
			plan.EnvLakeSecretAccessKey: "lake-creds/secretAccessKey",
		}))
		sc := &v1alpha1.StateComparison{}
		g.Expect(env.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "wi"}, sc)).To(Succeed())
		expectCondition(g, sc.Status.Conditions, sc.Generation, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonNeverRun)
		g.Expect(sc.Status.ObservedGeneration).To(Equal(sc.Generation))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	job := runNow(t, sc, kindStateComparison, "now")
	g.Expect(job.Labels).To(HaveKeyWithValue(LabelKind, kindStateComparison))
	key := "v1/comparison/state=WI/school_year=2020-21/data.parquet"
	groupsKey := "v1/comparison_groups/state=WI/school_year=2020-21/data.parquet"
	finishJob(t, job, true, encodeSummary(t, summary.Summary{
		RunID: "cmp-1", Outcome: summary.Succeeded, Message: "Compared 12 districts", Districts: 12,
		Objects: []summary.Object{
			{Dataset: "comparison", Key: key, Rows: 12, SHA256: "ee55"},
			{Dataset: "comparison_groups", Key: groupsKey, Rows: 108, SHA256: "ff66"},
		},
	}))
	g.Eventually(func(g Gomega) {
		sc := &v1alpha1.StateComparison{}
		g.Expect(env.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "wi"}, sc)).To(Succeed())
		expectCondition(g, sc.Status.Conditions, sc.Generation, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
		g.Expect(sc.Status.Districts).To(Equal(int32(12)))
		g.Expect(sc.Status.Rows).To(Equal(int64(12)), "status.rows counts comparison rows only, not the groups")
		g.Expect(sc.Status.ObjectKeys).To(Equal([]string{key, groupsKey}))
		g.Expect(sc.Status.LastRun.RunID).To(Equal("cmp-1"))
		g.Expect(sc.Status.LastRunNow).To(Equal("now"))
		g.Expect(sc.Status.LastSuccessfulTime).NotTo(BeNil())
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Expect(jobsOf(g, ns, kindStateComparison, "wi")).To(HaveLen(1))
	g.Expect(jobsOf(g, ns, kindDistrictSource, "wi")).To(BeEmpty())
}

func TestStateComparisonLakeNotFound(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	sc := &v1alpha1.StateComparison{
		ObjectMeta: metav1.ObjectMeta{Name: "il", Namespace: ns},
		Spec: v1alpha1.StateComparisonSpec{
			State: "IL", LakeRef: v1alpha1.LocalObjectReference{Name: "missing"},
			ScheduleSpec: v1alpha1.ScheduleSpec{Schedule: "@weekly"}, SchoolYears: []v1alpha1.SchoolYear{"2020-21"},
		},
	}
	create(t, sc)
	g.Eventually(func(g Gomega) {
		sc := &v1alpha1.StateComparison{}
		g.Expect(env.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "il"}, sc)).To(Succeed())
		expectCondition(g, sc.Status.Conditions, sc.Generation, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonLakeNotFound)
		s := expectCondition(g, sc.Status.Conditions, sc.Generation, v1alpha1.StalledCondition, metav1.ConditionTrue, v1alpha1.ReasonLakeNotFound)
		g.Expect(s.Message).To(Equal(`Lake "missing" not found in namespace ` + ns))
		g.Expect(sc.Status.ObservedGeneration).To(BeZero())
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}
