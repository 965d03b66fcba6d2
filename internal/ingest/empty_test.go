package ingest

import (
	"strings"
	"testing"

	"github.com/districtlake/districtlake/internal/ingest/crdcgen"
	"github.com/districtlake/districtlake/internal/plan"
)

// TestHeaderOnlyDistrictFile reads a district's contracts file with a header and no rows
// (csv), an empty array (json) and no lines (ndjson): each is a valid empty source, and
// the district's contracts partition holds zero rows.
func TestHeaderOnlyDistrictFile(t *testing.T) {
	for _, c := range []struct{ format, body string }{
		{"csv", "Agency,Type,Status,Annual Cost (USD),District Share,Start,End,Officers,Notes\r\n"},
		{"json", "[]\n"},
		{"ndjson", ""},
	} {
		t.Run(c.format, func(t *testing.T) {
			body := c.body
			src := plan.Source{Name: "contracts", Dataset: "contracts", Format: c.format, Inline: &body}
			if c.format == "csv" {
				src.Columns = contractsColumns
			}
			dir, m := runCRDC(t, src)
			if len(m.Objects) != 1 || m.Objects[0].Rows != 0 || m.Sources[0].RowsRead != 0 {
				t.Fatalf("manifest %+v", m)
			}
			got := parquetRows(t, dir, "contracts", `SELECT count(*) AS n FROM read_parquet(%s)`)
			if got != "[map[n:0]]" {
				t.Errorf("contracts partition %s, want zero rows", got)
			}
		})
	}
}

// TestEncoding reads Windows-1252 files with encoding: windows-1252 (csv, json, ndjson and
// the 2015-16 CRDC file), and refuses them without it, naming the row and the field to set.
func TestEncoding(t *testing.T) {
	contracts := func(format, body, enc string) plan.Source {
		s := plan.Source{Name: "contracts", Dataset: "contracts", Format: format, Inline: &body, Encoding: enc}
		if format == "csv" {
			s.Columns = map[string]string{"agency_name": "Agency"}
		}
		return s
	}
	bodies := map[string]string{
		"csv":    "Agency,Notes\nCity Police,x\nPe\xf1a County Sheriff,y\n",
		"json":   `[{"agency_name": "City Police"}, {"agency_name": "Pe` + "\xf1" + `a County Sheriff"}]`,
		"ndjson": "{\"agency_name\": \"City Police\"}\n{\"agency_name\": \"Pe\xf1a County Sheriff\"}\n",
	}
	wants := map[string]string{
		"csv":    `source "contracts" row 2 (line 3) column "Agency": "Pe\xf1a County Sheriff" is not valid UTF-8 (if the file is Windows-1252, set encoding: windows-1252 on the source)`,
		"json":   `source "contracts" row 2 (line 1) column "agency_name": the row is not valid UTF-8 (if the file is Windows-1252, set encoding: windows-1252 on the source)`,
		"ndjson": `source "contracts" row 2 (line 2) column "agency_name": the row is not valid UTF-8 (if the file is Windows-1252, set encoding: windows-1252 on the source)`,
	}
	for format, body := range bodies {
		t.Run(format, func(t *testing.T) {
			dir, _ := runCRDC(t, contracts(format, body, plan.EncodingWindows1252))
			if got := parquetRows(t, dir, "contracts", `SELECT agency_name FROM read_parquet(%s) ORDER BY ALL`); got != "[map[agency_name:City Police] map[agency_name:Peña County Sheriff]]" {
				t.Errorf("contracts %s", got)
			}
			_, _, err := tryCRDC(t, contracts(format, body, ""))
			if err == nil || err.Error() != wants[format] {
				t.Errorf("without encoding: %v\nwant %s", err, wants[format])
			}
		})
	}
	t.Run("crdc", func(t *testing.T) {
		o := crdcgen.Defaults()
		o.Year, o.Kind, o.Schools, o.LEAID, o.Windows1252 = "2017-18", crdcgen.Support, 12, "0100005", true
		var b strings.Builder
		if _, err := crdcgen.Generate(&b, o); err != nil {
			t.Fatal(err)
		}
		src := crdcSource("crdc-support", "staffing", "2017-18", b.String())
		_, _, err := tryCRDC(t, src)
		if err == nil || !strings.Contains(err.Error(), `source "crdc-support" row 4 (line 5) column "SCH_NAME": "Ca\xf1on`) || !strings.HasSuffix(err.Error(), "set encoding: windows-1252 on the source)") {
			t.Errorf("without encoding: %v", err)
		}
		src.Encoding = plan.EncodingWindows1252
		dir, _ := runCRDC(t, src)
		if got := parquetRows(t, dir, "staffing", `SELECT count(*) AS n FROM read_parquet(%s) WHERE school_name LIKE 'Cañon %%'`); got != "[map[n:1]]" {
			t.Errorf("decoded names %s", got)
		}
	})
}
