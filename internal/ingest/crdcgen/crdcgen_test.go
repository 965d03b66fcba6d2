package crdcgen

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestGenerateLooksPublished checks that a generated file has what published CRDC files
// have: a BOM, CRLF, the real header names, quoted names with commas and quotes,
// leading-zero LEAIDs, JJ=Yes rows and reserve codes, and that every kind of file holds
// the same schools.
func TestGenerateLooksPublished(t *testing.T) {
	var schools [][]string
	for _, k := range []Kind{Support, Enrollment, Arrests} {
		o := Defaults()
		o.Kind, o.Schools, o.Districts, o.LEAID, o.ReserveRate, o.JJRate = k, 400, 30, "0100005", 0.05, 0.05
		var b bytes.Buffer
		st, err := Generate(&b, o)
		if err != nil {
			t.Fatal(err)
		}
		data := b.Bytes()
		if !bytes.HasPrefix(data, []byte("\uFEFF")) || bytes.Count(data, []byte("\r\n")) != 401 || st.Bytes != int64(len(data)) {
			t.Fatalf("%s: want a BOM and 401 CRLF lines", k)
		}
		r := csv.NewReader(bytes.NewReader(data[3:]))
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatalf("%s: not valid CSV: %v", k, err)
		}
		h := rows[0]
		if !slices.Equal(h[:8], []string{"LEA_STATE", "LEA_STATE_NAME", "LEAID", "LEA_NAME", "SCHID", "SCH_NAME", "COMBOKEY", "JJ"}) {
			t.Fatalf("%s: header %v", k, h[:8])
		}
		want := map[Kind][]string{
			Support:    {"SCH_FTECOUNSELORS", "SCH_FTESERVICES_NUR", "SCH_FTESERVICES_PSY", "SCH_FTESERVICES_SOC", "SCH_FTESECURITY_LEO", "SCH_FTESECURITY_GUA"},
			Enrollment: {"SCH_ENR_HI_M", "SCH_ENR_TR_F", "TOT_ENR_M", "TOT_ENR_F", "SCH_ENR_IDEA_F", "SCH_ENR_504_M", "SCH_ENR_LEP_F"},
			Arrests: {"SCH_DISCWODIS_REF_BL_M", "SCH_DISCWODIS_ARR_WH_F", "SCH_DISCWODIS_ARR_LEP_F", "SCH_DISCWDIS_REF_504_F",
				"TOT_DISCWODIS_ARR_M", "SCH_DISCWDIS_ARR_IDEA_HI_F", "SCH_DISCWDIS_REF_LEP_M", "TOT_DISCWDIS_REF_IDEA_F"},
		}[k]
		for _, c := range want {
			if !slices.Contains(h, c) {
				t.Errorf("%s: no column %s", k, c)
			}
		}
		var jj, reserve, comma, quote, district int
		for _, row := range rows[1:] {
			if len(row) != len(h) {
				t.Fatalf("%s: ragged row %v", k, row)
			}
			if row[6] != row[2]+row[4] || len(row[6]) != 12 {
				t.Fatalf("%s: COMBOKEY %s is not LEAID %s + SCHID %s", k, row[6], row[2], row[4])
			}
			if row[2] == "0100005" {
				district++
			}
			if row[7] == "Yes" {
				jj++
			}
			comma += strings.Count(row[5], ",")
			quote += strings.Count(row[5], `"`)
			for _, v := range row[8:] {
				if n, err := strconv.Atoi(v); err == nil && n < 0 {
					reserve++
				}
			}
		}
		if district != st.DistrictRows || district < 13 || jj == 0 || reserve == 0 || comma == 0 || quote == 0 {
			t.Errorf("%s: district rows %d (stats %d), JJ %d, reserve codes %d, names with commas %d, quotes %d", k, district, st.DistrictRows, jj, reserve, comma, quote)
		}
		var ids [][]string
		for _, row := range rows[1:] {
			ids = append(ids, row[:8])
		}
		if schools == nil {
			schools = ids
		} else if !slices.EqualFunc(schools, ids, slices.Equal) {
			t.Errorf("%s: the schools differ from the support file's", k)
		}
	}
}

func TestGenerateRejectsBadOptions(t *testing.T) {
	for _, o := range []Options{
		{Kind: "nope", Schools: 1, Districts: 1, LEAID: "5508520"},
		{Kind: Support, Schools: 1, Districts: 2, LEAID: "5508520"},
		{Kind: Support, Schools: 200001, Districts: 2, LEAID: "5508520"},
		{Kind: Support, Schools: 1, Districts: 1, LEAID: "550852"},
	} {
		if _, err := Generate(&bytes.Buffer{}, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

// TestHeadersArePublished compares every header crdcgen writes with the published header
// lines in DISTRICTLAKE_CRDC_LAYOUTS (default ../shared/data/crdc-layouts from the repository).
func TestHeadersArePublished(t *testing.T) {
	dir := os.Getenv("DISTRICTLAKE_CRDC_LAYOUTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "..", "shared", "data", "crdc-layouts")
	}
	files := map[string]string{
		"2015-16/support": "2015-16_CRDC_School_Data.exact.csv", "2015-16/arrests": "2015-16_CRDC_School_Data.exact.csv",
		"2017-18/support": "2017-18_School_Support.from-2015-16-layout.csv", "2017-18/enrollment": "2017-18_Enrollment.from-2015-16-layout.csv",
		"2017-18/arrests": "2017-18_Referrals_and_Arrests.from-2015-16-layout.csv", "2020-21/support": "2020-21_School_Support.reconstructed.csv",
		"2021-22/support": "2021-22_School_Support.reconstructed.csv", "2021-22/enrollment": "2021-22_Enrollment.reconstructed-subset.csv",
		"2021-22/arrests": "2021-22_Referrals_and_Arrests.reconstructed.csv",
	}
	for key, file := range files {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatalf("the published layouts (set DISTRICTLAKE_CRDC_LAYOUTS): %v", err)
		}
		year, kind, _ := strings.Cut(key, "/")
		h, err := Header(year, Kind(kind))
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.Split(strings.TrimSpace(string(b)), ","); !slices.Equal(h, want) {
			t.Errorf("%s: crdcgen writes %d columns, the published header has %d", key, len(h), len(want))
		}
	}
}

// TestGenerateEveryYear writes every kind of every year, with the 2015-16 damage.
func TestGenerateEveryYear(t *testing.T) {
	for _, y := range Years {
		for _, k := range []Kind{Support, Enrollment, Arrests} {
			o := Defaults()
			o.Year, o.Kind, o.Schools, o.LEAID, o.Damage, o.Windows1252 = y, k, 30, "0100005", y == "2015-16", y == "2015-16"
			var b bytes.Buffer
			if _, err := Generate(&b, o); err != nil {
				t.Fatal(err)
			}
			h, _ := Header(y, k)
			r := csv.NewReader(bytes.NewReader(b.Bytes()[3:]))
			r.FieldsPerRecord = len(h)
			rows, err := r.ReadAll()
			if err != nil || len(rows) != 31 {
				t.Fatalf("%s %s: %d rows, %v", y, k, len(rows), err)
			}
			if y == "2015-16" && (rows[1][2] != "100005" || !bytes.Contains(b.Bytes(), []byte("E+10")) || !bytes.Contains(b.Bytes(), []byte("Ca\xf1on"))) {
				t.Errorf("%s: no damage in %v", y, rows[1][:8])
			}
		}
	}
}

// TestDistrictsListsTheFile: Districts names every district of the file, in its order,
// with its number of rows, so a benchmark can declare a DistrictSource for each.
func TestDistrictsListsTheFile(t *testing.T) {
	o := Defaults()
	o.Schools, o.Districts, o.BOM, o.CRLF = 500, 60, false, false
	ds, err := Districts(o)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := Generate(&b, o); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range rows[1:] {
		count[r[2]]++
	}
	if len(ds) != 60 || len(count) != 60 {
		t.Fatalf("%d districts listed, %d in the file", len(ds), len(count))
	}
	for i, d := range ds {
		if count[d.LEAID] != d.Schools || (i > 0 && ds[i-1].LEAID >= d.LEAID) {
			t.Errorf("district %d %s: %d schools listed, %d rows in the file", i, d.LEAID, d.Schools, count[d.LEAID])
		}
	}
	if !slices.ContainsFunc(ds, func(d District) bool { return d.LEAID == o.LEAID && d.Name == o.DistrictName && d.State == "WI" }) {
		t.Errorf("district %s missing: %+v", o.LEAID, ds[:3])
	}
}
