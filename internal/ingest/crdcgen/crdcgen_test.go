package crdcgen

import (
	"bytes"
	"encoding/csv"
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
			Enrollment: {"SCH_ENR_HI_M", "SCH_ENR_TR_X", "TOT_ENR_M", "TOT_ENR_F", "TOT_ENR_X", "SCH_ENR_IDEA_F", "SCH_ENR_504_M", "SCH_ENR_LEP_X"},
			Arrests: {"SCH_DISCWODIS_REF_BL_M", "SCH_DISCWODIS_ARR_WH_F", "SCH_DISCWODIS_ARR_LEP_X", "SCH_DISCWODIS_REF_504_F",
				"TOT_DISCWODIS_ARR_M", "SCH_DISCWDIS_ARR_IDEA_HI_F", "SCH_DISCWDIS_REF_IDEA_LEP_M", "TOT_DISCWDIS_REF_IDEA_X"},
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
