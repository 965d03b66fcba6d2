package controller

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/districtlake/districtlake/api/v1alpha1"
)

// TestAPIRejectsUnsafeStrings: the fields that reach a terminal, a SQL comment or an
// address refuse control characters, and URLs refuse user information (a password that
// would otherwise be copied into the plan ConfigMap, which the view role reads).
func TestAPIRejectsUnsafeStrings(t *testing.T) {
	ns := newNamespace(t)
	ds := func(change func(*v1alpha1.DistrictSource)) client.Object {
		d := newDS(ns, "", "statewide")
		d.GenerateName = "bad-"
		change(d)
		return d
	}
	lake := func(change func(*v1alpha1.Lake)) client.Object {
		l := newLake(ns, "", "creds")
		l.GenerateName = "bad-"
		change(l)
		return l
	}
	cases := []struct {
		name string
		obj  client.Object
		want string
	}{
		{"district name with an escape", ds(func(d *v1alpha1.DistrictSource) { d.Spec.District.Name = "Madison\x1b]0;x\x07" }),
			"spec.district.name in body should match"},
		{"district name with a newline", ds(func(d *v1alpha1.DistrictSource) { d.Spec.District.Name = "Madison\nDROP" }),
			"spec.district.name in body should match"},
		{"URL with a password", ds(func(d *v1alpha1.DistrictSource) {
			d.Spec.Sources[0].HTTP.URL = "https://user:s3cret@data.example.gov/x.csv"
		}), "url must not hold user information"},
		{"URL with a user", ds(func(d *v1alpha1.DistrictSource) { d.Spec.Sources[0].HTTP.URL = "http://token@data.example.gov/x.csv" }),
			"url must not hold user information"},
		{"lake prefix with a newline", lake(func(l *v1alpha1.Lake) { l.Spec.Prefix = "v1\nCREATE TABLE x AS SELECT 1; --" }),
			"spec.prefix in body should match"},
		{"lake endpoint with a newline", lake(func(l *v1alpha1.Lake) { l.Spec.Endpoint = "minio:9000\nx" }),
			"spec.endpoint in body should match"},
		{"lake endpoint with user information", lake(func(l *v1alpha1.Lake) { l.Spec.Endpoint = "user:pw@minio:9000" }),
			"endpoint is host:port, without user information"},
		{"lake region with a control character", lake(func(l *v1alpha1.Lake) { l.Spec.Region = "us-east-1\r" }),
			"spec.region in body should match"},
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
	// What must stay accepted: a name with accents and punctuation, a query string, a
	// prefix with dots and dashes.
	ok := newDS(ns, "fine", "statewide")
	ok.Spec.District.Name = "Escuela Niño & Sons' District (Élémentaire)"
	ok.Spec.Sources[0].HTTP.URL = "https://data.example.gov/x.csv?token=abc&year=2021"
	NewWithT(t).Expect(env.c.Create(context.Background(), ok)).To(Succeed())
	l := newLake(ns, "fine-lake", "creds")
	l.Spec.Prefix, l.Spec.Region = "district-lake/v1.2", "eu-central-1"
	NewWithT(t).Expect(env.c.Create(context.Background(), l)).To(Succeed())
}
