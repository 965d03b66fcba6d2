package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/districtlake/districtlake/internal/ingest/crdcgen"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
)

// crdcSupportHeader is the start of a School Support file's header and the columns the
// preset reads.
const crdcSupportHeader = "LEA_STATE,LEA_STATE_NAME,LEAID,LEA_NAME,SCHID,SCH_NAME,COMBOKEY,JJ,SCH_FTECOUNSELORS,SCH_FTESERVICES_NUR,SCH_FTESERVICES_PSY,SCH_FTESERVICES_SOC,SCH_FTESECURITY_LEO,SCH_FTESECURITY_GUA\r\n"

func supportRow(schid, counselors string) string {
	return "WI,Wisconsin,5508520,Madison Metropolitan School District," + schid + ",\"School " + schid + ", Madison\",5508520" + schid + ",No," + counselors + ",1,0.5,-9,0,1\r\n"
}

// TestIngestBadInput runs plans with bad sources against a lake that already holds a good
// run: each fails with exactly the error a user should see, and the lake is unchanged
// byte for byte.
func TestIngestBadInput(t *testing.T) {
	w := newWorld(t)
	slow := make(chan struct{})
	t.Cleanup(func() { close(slow) })
	web := http.NewServeMux()
	web.Handle("/", http.FileServer(http.Dir(w.dir)))
	web.HandleFunc("/slow.csv", func(rw http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-slow:
		}
	})
	w.web.Config.Handler = web
	// A port with nothing listening.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String() + "/support.csv"
	l.Close()

	good := crdcSupportHeader + supportRow("00001", "2.5") + supportRow("00002", "1")
	w.put(t, "support.csv", []byte(good))
	w.put(t, "empty.csv", nil)
	enrollment, err := crdcgen.Header("2020-21", crdcgen.Enrollment)
	if err != nil {
		t.Fatal(err)
	}
	w.put(t, "enrollment.csv", []byte(strings.ReplaceAll(crdcCSV(enrollment, map[string]string{"LEAID": wiLEA, "COMBOKEY": "550852000001", "TOT_ENR_M": "10", "TOT_ENR_F": "10"}), "\n", "\r\n")))
	support := w.httpSource("crdc-support", "staffing", "crdc", "2020-21", "support.csv")
	contracts := func(body string) plan.Source {
		return plan.Source{Name: "contracts", Dataset: "contracts", Format: "csv", Inline: inline(body), Columns: contractsColumns}
	}
	crdc := func(body string) plan.Source {
		return plan.Source{Name: "crdc-support", Dataset: "staffing", Format: "crdc", SchoolYear: "2020-21", Inline: inline(body)}
	}
	if _, err := Run(context.Background(), newPlan(w.lake, wiLEA, wiName, "WI", support, contracts(strings.ReplaceAll(contractsCSV, "AL", "WI"))),
		w.store, w.env, testOptions("20261126T130501Z-000001")); err != nil {
		t.Fatalf("the good run failed: %v", err)
	}
	if len(snapshot(t, w.store)) != 3 {
		t.Fatalf("the good run should leave 3 objects")
	}
	contractsHeader := "Agency,Type,Status,Annual Cost (USD),District Share,Start,End,Officers,Notes\r\n"
	wrongSecret := w.srcLake
	wrongSecret.AccessKeyIDEnv, wrongSecret.SecretAccessKeyEnv = "SRC_ID", "SRC_SECRET"
	badEnv := lake.MapEnv(map[string]string{"SRC_ID": w.minio.AccessKey, "SRC_SECRET": "not-the-secret"})
	where := "s3://sources/support.csv at " + w.minio.Endpoint

	cases := []struct {
		name    string
		sources []plan.Source
		env     lake.Env
		want    string
	}{
		{name: "ragged row", sources: []plan.Source{contracts(contractsHeader + "A,b,active,1,1,2023-07-01,2024-06-30,1,x\r\nB,b,active,1,1,2023-07-01,2024-06-30,1,x,extra\r\n")},
			want: `source "contracts" row 2 (line 3): the row has 10 fields, the header has 9`},
		{name: "invalid UTF-8", sources: []plan.Source{contracts(contractsHeader + "A,b,active,1,1,2023-07-01,2024-06-30,1,x\r\nMarshall \xff Sheriff,b,active,1,1,,,1,x\r\n")},
			want: `source "contracts" row 2 (line 3) column "Agency": "Marshall \xff Sheriff" is not valid UTF-8 (if the file is Windows-1252, set encoding: windows-1252 on the source)`},
		{name: "text in a money column", sources: []plan.Source{contracts(contractsHeader + "A,b,active,abc,1,2023-07-01,2024-06-30,1,x\r\n")},
			want: `source "contracts" row 1 (line 2) column "Annual Cost (USD)" (annual_cost): "abc" is not an amount of money`},
		{name: "text in a count column", sources: []plan.Source{contracts(contractsHeader + "A,b,active,1,1,2023-07-01,2024-06-30,five,x\r\n")},
			want: `source "contracts" row 1 (line 2) column "Officers" (officers): "five" is not a whole number`},
		{name: "text in an FTE column", sources: []plan.Source{crdc(crdcSupportHeader + supportRow("00001", "1") + supportRow("00002", "two"))},
			want: `source "crdc-support" row 2 (line 3) column "SCH_FTECOUNSELORS" (counselors_fte): "two" is not a number`},
		{name: "negative FTE", sources: []plan.Source{crdc(crdcSupportHeader + supportRow("00001", "1") + supportRow("00002", "-1.5"))},
			want: `source "crdc-support" row 2 (line 3) column "SCH_FTECOUNSELORS" (counselors_fte): "-1.5" is negative and not a CRDC reserve code`},
		{name: "negative FTE in a district file", sources: []plan.Source{{Name: "staffing", Dataset: "staffing", Format: "csv", SchoolYear: "2020-21",
			Inline: inline("nces_school_id,counselors_fte\n550852000001,-2\n")}},
			want: `source "staffing" row 1 (line 2) column "counselors_fte": "-2" is negative`},
		{name: "FTE above enrollment", sources: []plan.Source{crdc(crdcSupportHeader + supportRow("00001", "30")), w.s3Source("crdc-enrollment", "staffing", "crdc", "2020-21", "enrollment.csv")},
			want: `source "crdc-support" row 1 (line 2) column "SCH_FTECOUNSELORS" (counselors_fte): counselors_fte 30 is more than the school's enrollment of 20 students (enrollment from source "crdc-enrollment" row 1 (line 2))`},
		{name: "malformed school id", sources: []plan.Source{{Name: "staffing", Dataset: "staffing", Format: "csv", SchoolYear: "2020-21",
			Inline: inline("nces_school_id,counselors_fte\n55085200001,2\n")}},
			want: `source "staffing" row 1 (line 2) column "nces_school_id": "55085200001" is not a 12-digit NCES school id`},
		{name: "school of another district", sources: []plan.Source{{Name: "staffing", Dataset: "staffing", Format: "csv", SchoolYear: "2020-21",
			Inline: inline("nces_school_id,counselors_fte\n550852100001,2\n")}},
			want: `source "staffing" row 1 (line 2) column "nces_school_id": "550852100001" is not a school of district 5508520 (an NCES school id starts with its district's LEA id)`},
		{name: "bad date", sources: []plan.Source{contracts(contractsHeader + "A,b,active,1,1,2023-02-30,2024-06-30,1,x\r\n")},
			want: `source "contracts" row 1 (line 2) column "Start" (start_date): "2023-02-30" is not a real date`},
		{name: "unknown status", sources: []plan.Source{contracts(contractsHeader + "A,b,pending,1,1,2023-07-01,2024-06-30,1,x\r\n")},
			want: `source "contracts" row 1 (line 2) column "Status" (status): "pending" is not a contract status (active, expired, terminated or suspended)`},
		{name: "missing required column", sources: []plan.Source{contracts("Type,Status,Annual Cost (USD)\r\nb,active,1\r\n")},
			want: `source "contracts": missing required columns "Agency" (for agency_name), "Start" (for start_date), "End" (for end_date), "District Share" (for district_share), "Officers" (for officers), "Notes" (for notes) (the header has: "Type", "Status", "Annual Cost (USD)")`},
		{name: "missing needed CRDC column", sources: []plan.Source{crdc(strings.Replace(crdcSupportHeader, "SCH_FTECOUNSELORS,", "", 1) + "WI,Wisconsin,5508520,M,00001,x,550852000001,No,1,1,1,1,1\r\n")},
			want: `source "crdc-support": column "SCH_FTECOUNSELORS" of the 2020-21 School Support layout is missing`},
		{name: "NUL byte", sources: []plan.Source{crdc(crdcSupportHeader + supportRow("00001", "1") + supportRow("00002", "1\x00"))},
			want: `source "crdc-support" row 2 (line 3) column "SCH_FTECOUNSELORS": holds a NUL byte, which text does not (is the file UTF-16, or damaged?)`},
		{name: "missing CRDC column", sources: []plan.Source{crdc("LEAID,SCH_NAME,SCH_FTECOUNSELORS\r\n5508520,x,1\r\n")},
			want: `source "crdc-support": is not a CRDC school file: missing required column COMBOKEY`},
		{name: "CRDC file for the wrong dataset", sources: []plan.Source{{Name: "crdc-support", Dataset: "incidents", Format: "crdc", SchoolYear: "2020-21", Inline: inline(good)}},
			want: `source "crdc-support": a CRDC file for the incidents dataset needs the Referrals and Arrests columns (SCH_DISCWODIS_REF_<race>_<sex>, SCH_DISCWODIS_ARR_<race>_<sex>, SCH_DISCWDIS_*_IDEA_*); this header has none`},
		{name: "empty file (inline)", sources: []plan.Source{contracts("")},
			want: `source "contracts": the file is empty (no header row)`},
		{name: "empty file (http)", sources: []plan.Source{w.httpSource("crdc-support", "staffing", "crdc", "2020-21", "empty.csv")},
			want: `source "crdc-support": the file is empty (no header row)`},
		{name: "column named twice", sources: []plan.Source{contracts("Agency,Type,Agency,,\r\nA,b,c,,\r\n")},
			want: `source "contracts": the header names column "Agency" twice`},
		{name: "CRDC header only", sources: []plan.Source{crdc(crdcSupportHeader)},
			want: `source "crdc-support": has no data rows`},
		{name: "no rows of the district", sources: []plan.Source{crdc(strings.ReplaceAll(good, "5508520", "5508521"))},
			want: `source "crdc-support": no rows of district 5508520 (LEAID) among its 2 rows`},
		{name: "duplicate school rows", sources: []plan.Source{crdc(crdcSupportHeader + supportRow("00001", "1") + supportRow("00002", "1") + supportRow("00001", "2"))},
			want: `source "crdc-support" row 3 (line 4) column "COMBOKEY" (nces_school_id): school 550852000001 is also on row 1 (line 2)`},
		{name: "duplicate school rows in a district file", sources: []plan.Source{{Name: "staffing", Dataset: "staffing", Format: "json", SchoolYear: "2020-21",
			Inline: inline(`[{"nces_school_id":"550852000001"},` + "\n" + `{"nces_school_id":"550852000001"}]`)}},
			want: `source "staffing" row 2 (line 2) column "nces_school_id": school 550852000001 is also on row 1 (line 1)`},
		{name: "sources disagree", sources: []plan.Source{crdc(crdcSupportHeader + supportRow("00001", "2")), {Name: "more", Dataset: "staffing", Format: "csv",
			SchoolYear: "2020-21", Inline: inline("nces_school_id,counselors_fte\n550852000001,3\n")}},
			want: `source "more" row 1 (line 2) column "counselors_fte": school 550852000001 has counselors_fte 3, but source "crdc-support" row 1 (line 2) has 2`},
		{name: "column map names an unknown field", sources: []plan.Source{{Name: "contracts", Dataset: "contracts", Format: "csv", Inline: inline(contractsHeader),
			Columns: map[string]string{"cost": "Annual Cost (USD)"}}},
			want: `source "contracts": columns: "cost" is not a field of the contracts dataset (fields: agency_name, agency_type, start_date, end_date, status, annual_cost, district_share, agency_share, officers, training_hours, source_url, notes, nces_lea_id)`},
		{name: "oversize download", sources: []plan.Source{func() plan.Source { s := support; s.MaxBytes = 100; return s }()},
			want: fmt.Sprintf("source crdc-support: %s/support.csv is %d bytes, over the limit of 100 bytes (maxBytes)", w.web.URL, len(good))},
		{name: "sha256 mismatch", sources: []plan.Source{func() plan.Source { s := support; s.SHA256 = strings.Repeat("0", 64); return s }()},
			want: fmt.Sprintf("source crdc-support: the sha256 of %s/support.csv is %s, not the expected %s", w.web.URL, sha256Hex(good), strings.Repeat("0", 64))},
		{name: "404", sources: []plan.Source{w.httpSource("crdc-support", "staffing", "crdc", "2020-21", "missing.csv")},
			want: fmt.Sprintf("source crdc-support: GET %s/missing.csv: 404 Not Found", w.web.URL)},
		{name: "timeout", sources: []plan.Source{func() plan.Source {
			s := w.httpSource("crdc-support", "staffing", "crdc", "2020-21", "slow.csv")
			s.TimeoutSeconds = 1
			return s
		}()},
			want: fmt.Sprintf("source crdc-support: GET %s/slow.csv: timed out after 1s", w.web.URL)},
		{name: "connection refused", sources: []plan.Source{{Name: "crdc-support", Dataset: "staffing", Format: "crdc", SchoolYear: "2020-21", HTTP: &plan.HTTP{URL: refused}}},
			want: fmt.Sprintf("source crdc-support: GET %s: connection refused", refused)},
		{name: "bad credentials", sources: []plan.Source{{Name: "crdc-support", Dataset: "staffing", Format: "crdc", SchoolYear: "2020-21",
			S3: &plan.S3{Lake: wrongSecret, Bucket: "sources", Key: "support.csv"}}}, env: badEnv,
			want: "source crdc-support: GET " + where + ": the secret access key does not match the access key ID (SignatureDoesNotMatch)"},
		{name: "missing file", sources: []plan.Source{w.fileSource("crdc-support", "staffing", "crdc", "2020-21", "nope.csv")},
			want: fmt.Sprintf("source crdc-support: %s/nope.csv does not exist", w.dir)},
		{name: "second dataset fails after the first is written", sources: []plan.Source{support, contracts(contractsHeader + "A,b,active,1,1,2023-07-01,2022-06-30,1,x\r\n")},
			want: `source "contracts" row 1 (line 2) column "End" (end_date): the contract ends before it starts`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := c.env
			if env == nil {
				env = w.env
			}
			start := time.Now()
			runExpectError(t, newPlan(w.lake, wiLEA, wiName, "WI", c.sources...), w.store, env, c.want)
			if time.Since(start) > 20*time.Second {
				t.Errorf("took %s", time.Since(start))
			}
		})
	}

	t.Run("bad lake credentials", func(t *testing.T) {
		l := w.lake
		l.SecretAccessKeyEnv = "WRONG_SECRET"
		bad, err := lake.New(context.Background(), l, lake.MapEnv(map[string]string{plan.EnvLakeAccessKeyID: w.minio.AccessKey, "WRONG_SECRET": "nope"}))
		if err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, w.store)
		_, err = Run(context.Background(), newPlan(l, wiLEA, wiName, "WI", support), bad, w.env, testOptions("20261126T130501Z-bad001"))
		if err == nil || !strings.Contains(err.Error(), "the secret access key does not match the access key ID (SignatureDoesNotMatch)") ||
			!strings.Contains(err.Error(), "staffing/state=WI/school_year=2020-21/district=5508520/data.parquet") || strings.Contains(err.Error(), "nope") {
			t.Fatalf("error %v: want the object key and the credentials problem in words, never the secret", err)
		}
		assertUnchanged(t, w.store, before)
	})
}

// TestIngestMinIOKilledMidRun kills the object store while a large source is being
// ingested: the run fails, no object appears at the key, and after a restart a re-run
// publishes the complete file.
func TestIngestMinIOKilledMidRun(t *testing.T) {
	w := newWorld(t)
	big := newBigSupport(t, 60000)
	w.put(t, "big.csv", big)
	p := newPlan(w.lake, wiLEA, wiName, "WI", w.httpSource("crdc-support", "staffing", "crdc", "2020-21", "big.csv"))
	store, err := lake.New(context.Background(), w.lake, w.env, lake.WithPartSize(5<<20))
	if err != nil {
		t.Fatal(err)
	}
	// The server dies while the source is still arriving.
	killed := make(chan struct{})
	var once sync.Once
	web := http.NewServeMux()
	web.HandleFunc("/big.csv", func(rw http.ResponseWriter, r *http.Request) {
		for i := 0; i < len(big); i += 1 << 20 {
			_, _ = rw.Write(big[i:min(i+1<<20, len(big))])
			rw.(http.Flusher).Flush()
			if i == 2<<20 {
				once.Do(func() {
					w.minio.Kill()
					close(killed)
				})
			}
		}
	})
	srv := httptest.NewServer(web)
	defer srv.Close()
	p.Sources[0].HTTP.URL = srv.URL + "/big.csv"
	_, err = Run(context.Background(), p, store, w.env, testOptions("20261126T130501Z-k1113d"))
	<-killed
	if err == nil {
		t.Fatal("the run succeeded with the object store killed")
	}
	t.Logf("run failed as it should: %v", err)
	w.minio.Restart(t)
	if objs := snapshot(t, w.store); len(objs) != 0 {
		t.Fatalf("objects after a failed run: %v", len(objs))
	}
	sum, err := Run(context.Background(), p, store, w.env, testOptions("20261126T130501Z-a9a1n0"))
	if err != nil {
		t.Fatalf("re-run: %v", err)
	}
	if sum.Objects[0].Rows != 60000 {
		t.Fatalf("re-run wrote %d rows, want 60000", sum.Objects[0].Rows)
	}
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// newBigSupport generates a School Support file of n schools of the Madison district.
func newBigSupport(t testing.TB, n int) []byte {
	t.Helper()
	o := crdcgen.Defaults()
	o.Schools, o.LEAID, o.DistrictName = n, wiLEA, wiName
	var b bytes.Buffer
	if _, err := crdcgen.Generate(&b, o); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
