package controller

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/land"
)

// TestAPIRejects checks that every schema and CEL rule of the CRDs refuses a bad object
// with a message a user can act on.
func TestAPIRejects(t *testing.T) {
	ns := newNamespace(t)
	ds := func(change func(*v1alpha1.DistrictSource)) client.Object {
		d := newDS(ns, "", "statewide")
		d.GenerateName = "bad-"
		change(d)
		return d
	}
	inline := "a,b\n1,2\n"
	cases := []struct {
		name string
		obj  client.Object
		want string
	}{
		{"two source kinds", ds(func(d *v1alpha1.DistrictSource) { d.Spec.Sources[0].Inline = &inline }),
			"set exactly one of http, s3, configMapRef, inline or sharedSourceRef"},
		{"no source kind", ds(func(d *v1alpha1.DistrictSource) { d.Spec.Sources[0].HTTP = nil }),
			"set exactly one of http, s3, configMapRef, inline or sharedSourceRef"},
		{"duplicate source names", ds(func(d *v1alpha1.DistrictSource) { d.Spec.Sources[1].Name = "crdc-support" }),
			`spec.sources[1]: Duplicate value: {"name":"crdc-support"}`},
		{"state code", ds(func(d *v1alpha1.DistrictSource) { d.Spec.District.State = "XX" }),
			`spec.district.state: Unsupported value: "XX"`},
		{"NCES ID with six digits", ds(func(d *v1alpha1.DistrictSource) { d.Spec.District.NCESID = "550852" }),
			`spec.district.ncesId: Invalid value: "550852": spec.district.ncesId in body should match '^[0-9]{7}$'`},
		{"NCES ID with letters", ds(func(d *v1alpha1.DistrictSource) { d.Spec.District.NCESID = "55O852O" }),
			`spec.district.ncesId in body should match '^[0-9]{7}$'`},
		{"cron with four fields", ds(func(d *v1alpha1.DistrictSource) { d.Spec.Schedule = "0 3 * *" }),
			"schedule must be a cron expression with five fields (minute hour day-of-month month day-of-week) or a descriptor such as @daily"},
		{"ftp URL", ds(func(d *v1alpha1.DistrictSource) { d.Spec.Sources[0].HTTP.URL = "ftp://data.example.gov/x.csv" }),
			"url must be an http:// or https:// URL"},
		{"not a URL", ds(func(d *v1alpha1.DistrictSource) { d.Spec.Sources[0].HTTP.URL = "School Support.csv" }),
			"url must be an http:// or https:// URL"},
		{"ZIP member naming a folder", ds(func(d *v1alpha1.DistrictSource) { d.Spec.Sources[0].HTTP.Member = "SCH/" }),
			"member is the path of a file inside the archive, such as SCH/School Support.csv: no leading slash, not a folder"},
		{"ZIP member with a leading slash", ds(func(d *v1alpha1.DistrictSource) {
			d.Spec.Sources[0].HTTP = nil
			d.Spec.Sources[0].S3 = &v1alpha1.S3Source{Bucket: "federal", Key: "crdc.zip", Member: "/SCH/School Support.csv"}
		}), "member is the path of a file inside the archive, such as SCH/School Support.csv: no leading slash, not a folder"},
		{"school year of non-consecutive years", ds(func(d *v1alpha1.DistrictSource) { d.Spec.Sources[0].SchoolYear = "2020-22" }),
			"schoolYear must name two consecutive years, such as 2023-24"},
		{"school year written with a slash", ds(func(d *v1alpha1.DistrictSource) { d.Spec.Sources[0].SchoolYear = "2020/21" }),
			"spec.sources[0].schoolYear in body should match '^[0-9]{4}-[0-9]{2}$'"},
		{"staffing without school year", ds(func(d *v1alpha1.DistrictSource) { d.Spec.Sources[0].SchoolYear = "" }),
			"every staffing and incidents source needs a schoolYear"},
		{"crdc contracts", ds(func(d *v1alpha1.DistrictSource) { d.Spec.Sources[1].Format = v1alpha1.FormatCRDC }),
			"the crdc format has no contracts file"},
		{"unknown encoding", ds(func(d *v1alpha1.DistrictSource) { d.Spec.Sources[0].Encoding = "latin1" }),
			`spec.sources[0].encoding: Unsupported value: "latin1": supported values: "utf-8", "windows-1252"`},
		{"parquet in windows-1252", ds(func(d *v1alpha1.DistrictSource) {
			d.Spec.Sources[1].Format, d.Spec.Sources[1].Encoding = v1alpha1.FormatParquet, v1alpha1.EncodingWindows1252
		}), "a parquet file is always UTF-8: encoding applies to csv, json, ndjson and crdc"},
		{"unknown dataset", ds(func(d *v1alpha1.DistrictSource) { d.Spec.Sources[1].Dataset = "budgets" }),
			`spec.sources[1].dataset: Unsupported value: "budgets"`},
		{"no sources", ds(func(d *v1alpha1.DistrictSource) { d.Spec.Sources = nil }),
			"spec.sources: Required value"},
		{"lake endpoint with a scheme", func() client.Object {
			l := newLake(ns, "bad-endpoint", "creds")
			l.Spec.Endpoint = "https://minio:9000"
			return l
		}(), "endpoint is host:port, without a scheme or a path"},
		{"lake bucket name", func() client.Object {
			l := newLake(ns, "bad-bucket", "creds")
			l.Spec.Bucket = "Districts_Lake"
			return l
		}(), "spec.bucket in body should match"},
		{"shared source ref beside a URL", ds(func(d *v1alpha1.DistrictSource) {
			d.Spec.Sources[0].SharedSourceRef = &v1alpha1.LocalObjectReference{Name: "crdc-2021-22-school-support"}
		}), "set exactly one of http, s3, configMapRef, inline or sharedSourceRef"},
		{"no format and no shared source", ds(func(d *v1alpha1.DistrictSource) { d.Spec.Sources[0].Format = "" }),
			"format is required unless the source is a sharedSourceRef"},
		{"shared source with two origins", sharedSource(ns, "two-origins", func(s *v1alpha1.SharedSource) {
			s.Spec.S3 = &v1alpha1.S3Source{Bucket: "federal", Key: "crdc.zip"}
		}), "set exactly one of http, s3 or configMapRef"},
		{"shared csv without districtColumn", sharedSource(ns, "no-leaid", func(s *v1alpha1.SharedSource) {
			s.Spec.Format = v1alpha1.SharedFormatCSV
		}), "districtColumn names the column holding the LEAID: required unless format is crdc"},
		{"shared json", sharedSource(ns, "json", func(s *v1alpha1.SharedSource) {
			s.Spec.Format, s.Spec.DistrictColumn = "json", "LEAID"
		}), `spec.format: Unsupported value: "json"`},
		{"comparison state", &v1alpha1.StateComparison{
			ObjectMeta: metav1.ObjectMeta{Name: "bad-state", Namespace: ns},
			Spec: v1alpha1.StateComparisonSpec{State: "Wisconsin", LakeRef: v1alpha1.LocalObjectReference{Name: "statewide"},
				ScheduleSpec: v1alpha1.ScheduleSpec{Schedule: "@weekly"}, SchoolYears: []v1alpha1.SchoolYear{"2020-21"}},
		}, `spec.state: Unsupported value: "Wisconsin"`},
		{"comparison school year", &v1alpha1.StateComparison{
			ObjectMeta: metav1.ObjectMeta{Name: "bad-year", Namespace: ns},
			Spec: v1alpha1.StateComparisonSpec{State: "WI", LakeRef: v1alpha1.LocalObjectReference{Name: "statewide"},
				ScheduleSpec: v1alpha1.ScheduleSpec{Schedule: "@weekly", TimeZone: ptr.To("America/Chicago")},
				SchoolYears:  []v1alpha1.SchoolYear{"2019-21"}},
		}, "schoolYear must name two consecutive years, such as 2023-24"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := env.c.Create(context.Background(), tc.obj)
			g.Expect(err).To(HaveOccurred(), "the API server accepted the object")
			g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "not an Invalid error: %v", err)
			g.Expect(err.Error()).To(ContainSubstring(tc.want))
		})
	}
}

// sharedSource is a valid SharedSource of the CRDC School Support member of the national
// ZIP, changed by change.
func sharedSource(ns, name string, change func(*v1alpha1.SharedSource)) *v1alpha1.SharedSource {
	s := &v1alpha1.SharedSource{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.SharedSourceSpec{
			HTTP:         &v1alpha1.HTTPSource{URL: "https://data.example.gov/crdc/2021-22-crdc-data.zip", Member: "SCH/School Support.csv"},
			Format:       v1alpha1.SharedFormatCRDC,
			SchoolYear:   "2021-22",
			LakeRef:      v1alpha1.LocalObjectReference{Name: "statewide"},
			ScheduleSpec: v1alpha1.ScheduleSpec{Schedule: "@weekly"},
		},
	}
	if change != nil {
		change(s)
	}
	return s
}

// TestAPISharedSource: a valid SharedSource is accepted with its short name's defaults,
// and a DistrictSource source naming it needs no format.
func TestAPISharedSource(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	g.Expect(env.c.Create(context.Background(), sharedSource(ns, "crdc-2021-22-school-support", nil))).To(Succeed())
	ds := newDS(ns, "wi-5508520-shared", "statewide")
	ds.Spec.Sources[0].HTTP = nil
	ds.Spec.Sources[0].Format = ""
	ds.Spec.Sources[0].SharedSourceRef = &v1alpha1.LocalObjectReference{Name: "crdc-2021-22-school-support"}
	g.Expect(env.c.Create(context.Background(), ds)).To(Succeed())
}

// TestAPIZipMember: a source naming a member of a ZIP archive is accepted, and the member
// reaches the run's plan.
func TestAPIZipMember(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	create(t, lakeSecret(ns, "lake-creds", secretAccessKeyValue), newLake(ns, "statewide", "lake-creds"))
	ds := newDS(ns, "wi-5508520", "statewide")
	ds.Spec.Sources[0].HTTP = &v1alpha1.HTTPSource{URL: "https://data.example.gov/crdc/2021-22-crdc-data.zip", Member: "SCH/School Support.csv"}
	ds.Spec.Sources = append(ds.Spec.Sources, v1alpha1.Source{
		Name: "crdc-enrollment", Dataset: v1alpha1.DatasetStaffing, Format: v1alpha1.FormatCRDC, SchoolYear: "2021-22",
		S3: &v1alpha1.S3Source{Bucket: "federal", Key: "crdc/2021-22-crdc-data.zip", Member: "SCH/Enrollment.csv"},
	})
	g.Expect(env.c.Create(context.Background(), ds)).To(Succeed())
	g.Eventually(func(g Gomega) {
		_, p := getPlan(g, ns, ds.Name)
		g.Expect(p.Sources).To(HaveLen(3))
		g.Expect(p.Sources[0].HTTP.Member).To(Equal("SCH/School Support.csv"))
		g.Expect(p.Sources[2].S3.Member).To(Equal("SCH/Enrollment.csv"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

// TestSamples creates every object of config/samples (the resources its kustomization
// lists, in a namespace of the test's own), as `kubectl apply -k config/samples` would: the
// API accepts them, and every DistrictSource and StateComparison gets its plan ConfigMap and
// CronJob.
func TestSamples(t *testing.T) {
	g := NewWithT(t)
	ns := emptyNamespace(t)
	dir := filepath.Join(repoRoot(), "config", "samples")
	var kust struct {
		Resources []string `json:"resources"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(sigsyaml.Unmarshal(data, &kust)).To(Succeed())
	g.Expect(kust.Resources).NotTo(BeEmpty())
	kinds := map[string][]string{}
	for _, res := range kust.Resources {
		for _, obj := range readObjects(t, filepath.Join(dir, res)) {
			if obj.GetKind() == "Namespace" {
				continue
			}
			obj.SetNamespace(ns)
			g.Expect(env.c.Create(context.Background(), obj)).To(Succeed(), "%s: %s %s", res, obj.GetKind(), obj.GetName())
			kinds[obj.GetKind()] = append(kinds[obj.GetKind()], obj.GetName())
		}
	}
	g.Expect(kinds).To(HaveKey("Lake"))
	g.Expect(kinds).To(HaveKey("DistrictSource"))
	g.Expect(kinds).To(HaveKey("StateComparison"))
	g.Expect(kinds).To(HaveKey("SharedSource"))

	var list v1alpha1.DistrictSourceList
	g.Expect(env.c.List(context.Background(), &list, client.InNamespace(ns))).To(Succeed())
	for _, ds := range list.Items {
		g.Expect(ds.Spec.SuccessfulJobsHistoryLimit).To(Equal(ptr.To[int32](3)))
		g.Expect(ds.Spec.FailedJobsHistoryLimit).To(Equal(ptr.To[int32](1)))
	}
	// The DistrictSources read their CRDC files through SharedSources: they wait, Reconciling,
	// until each has landed a revision (here, its first-run Job finishes as if it had).
	g.Expect(kinds["SharedSource"]).To(HaveLen(3))
	for _, name := range kinds["DistrictSource"] {
		g.Eventually(func(g Gomega) {
			got := getDS(g, ns, name)
			expectCondition(g, got.Status.Conditions, got.Generation, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonSharedSourceNotReady)
			expectCondition(g, got.Status.Conditions, got.Generation, v1alpha1.ReconcilingCondition, metav1.ConditionTrue, v1alpha1.ReasonSharedSourceNotReady)
		}).WithTimeout(timeout).WithPolling(poll).Should(Succeed(), "DistrictSource %s", name)
	}
	for i, name := range kinds["SharedSource"] {
		landed(t, &v1alpha1.SharedSource{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}, "1", fmt.Sprintf("%016x", i+1), land.LayoutStateFile)
	}
	for _, kind := range []string{"DistrictSource", "StateComparison", "SharedSource"} {
		for _, name := range kinds[kind] {
			g.Eventually(func(g Gomega) {
				getCronJob(g, ns, name)
				cm := &corev1.ConfigMap{}
				g.Expect(env.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name + "-plan"}, cm)).To(Succeed())
				g.Expect(cm.Data).To(HaveKey("plan.json"))
			}).WithTimeout(timeout).WithPolling(poll).Should(Succeed(), "%s %s", kind, name)
		}
	}
}

// readObjects decodes every document of a YAML file.
func readObjects(t *testing.T, file string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		obj := &unstructured.Unstructured{}
		err := dec.Decode(&obj.Object)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(obj.Object) == 0 || strings.TrimSpace(obj.GetKind()) == "" {
			continue
		}
		out = append(out, obj)
	}
}
