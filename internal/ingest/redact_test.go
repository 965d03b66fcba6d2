package ingest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/summary"
)

// A URL with user information is refused before anything is fetched: the plan is a
// ConfigMap the view role reads. The error does not repeat the password.
func TestIngestRefusesURLWithUserInformation(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	defer srv.Close()
	l, store := fileLakeAt(t, plan.Lake{Type: plan.LakeFile, Path: t.TempDir()})
	url := strings.Replace(srv.URL, "http://", "http://reader:hunter2-pw@", 1) + "/x.csv"
	src := plan.Source{Name: "s", Dataset: "contracts", Format: "csv", HTTP: &plan.HTTP{URL: url}}
	_, err := Run(context.Background(), newPlan(l, wiLEA, wiName, "WI", src), store, nil, testOptions("20261126T130501Z-aaaaaa"))
	if err == nil || !strings.Contains(err.Error(), "holds user information") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error = %v, want a refusal of the user information without the password", err)
	}
	if hits != 0 {
		t.Errorf("the server was reached %d times", hits)
	}
}

// A failed fetch of a URL with a token in its query keeps the token out of the error and
// the summary (the termination message, then the DistrictSource's status and events).
func TestIngestRedactsQueryValuesInErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	l, store := fileLakeAt(t, plan.Lake{Type: plan.LakeFile, Path: t.TempDir()})
	src := plan.Source{Name: "s", Dataset: "contracts", Format: "csv", HTTP: &plan.HTTP{URL: srv.URL + "/x.csv?api_key=s3cr3t-9a7f"}}
	sum, err := Run(context.Background(), newPlan(l, wiLEA, wiName, "WI", src), store, nil, testOptions("20261126T130501Z-bbbbbb"))
	b, _ := summary.Encode(sum)
	if err == nil || !strings.Contains(err.Error(), "api_key=xxxxx") || !strings.Contains(err.Error(), "404") {
		t.Fatalf("error = %v, want the 404 with the query value redacted", err)
	}
	for what, text := range map[string]string{"error": err.Error(), "summary": string(b)} {
		if strings.Contains(text, "s3cr3t") {
			t.Errorf("the %s holds the token: %s", what, text)
		}
	}
}
