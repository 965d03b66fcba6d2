package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/districtlake/districtlake/api/v1alpha1"
)

// dsTable lists the DistrictSources of ns as kubectl get does (a Table from the apiserver)
// and returns each row's cells by column name, by DistrictSource name.
func dsTable(g Gomega, ns string) ([]string, map[string]map[string]any) {
	hc, err := rest.HTTPClientFor(env.cfg)
	g.Expect(err).NotTo(HaveOccurred())
	url := fmt.Sprintf("%s/apis/districtlake.io/v1alpha1/namespaces/%s/districtsources", strings.TrimSuffix(env.cfg.Host, "/"), ns)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	g.Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := hc.Do(req)
	g.Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
	var t metav1.Table
	g.Expect(json.NewDecoder(resp.Body).Decode(&t)).To(Succeed())
	var cols []string
	for _, c := range t.ColumnDefinitions {
		if c.Priority == 0 {
			cols = append(cols, c.Name)
		}
	}
	rows := map[string]map[string]any{}
	for _, r := range t.Rows {
		cells := map[string]any{}
		for i, c := range t.ColumnDefinitions {
			cells[c.Name] = r.Cells[i]
		}
		rows[fmt.Sprint(cells["Name"])] = cells
	}
	return cols, rows
}

// TestPrinterColumns: kubectl get dsrc -A shows each district, its state, whether it is
// Ready, its last success, and a reason only when it is not Ready.
func TestPrinterColumns(t *testing.T) {
	ns := newNamespace(t)
	create(t, lakeSecret(ns, "lake-creds", secretAccessKeyValue), newLake(ns, "statewide", "lake-creds"))
	ready := newDS(ns, "wi-5508520", "statewide")
	stuck := newDS(ns, "wi-5500001", "statewide")
	stuck.Spec.District.NCESID = "5500001"
	stuck.Spec.District.Name = "Elsewhere School District"
	stuck.Spec.Sources[1].ConfigMapRef.Name = "not-there"
	create(t, ready, stuck)
	expectNeverRunReady(t, ns, ready.Name)

	NewWithT(t).Eventually(func(g Gomega) {
		cols, rows := dsTable(g, ns)
		g.Expect(cols).To(Equal([]string{"Name", "District", "State", "Schedule", "Ready", "Last Success", "Reason", "Age"}))
		g.Expect(rows).To(HaveLen(2))
		r := rows[ready.Name]
		g.Expect(r["District"]).To(Equal("Madison Metropolitan School District"))
		g.Expect(r["State"]).To(Equal("WI"))
		g.Expect(r["Ready"]).To(Equal("True"))
		g.Expect(r["Reason"]).To(BeNil(), "a Ready DistrictSource shows no reason")
		g.Expect(r["Last Success"]).To(BeNil(), "it never ran")
		s := rows[stuck.Name]
		g.Expect(s["District"]).To(Equal("Elsewhere School District"))
		g.Expect(s["Ready"]).To(Equal("False"))
		g.Expect(s["Reason"]).To(Equal(v1alpha1.ReasonConfigMapNotFound))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}
