package ingest

import (
	"fmt"
	"testing"

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
			if got != fmt.Sprint("[map[n:0]]") {
				t.Errorf("contracts partition %s, want zero rows", got)
			}
		})
	}
}
