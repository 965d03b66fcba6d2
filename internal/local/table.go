package local

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/report"
)

// Row is one Parquet row: column name -> int64, float64 (decimals too), string, bool or
// nil for null.
type Row map[string]any

// ReadParquet reads every row of a (small) Parquet object of the lake, such as a state's
// comparison.
func ReadParquet(ctx context.Context, store lake.Store, key string) ([]Row, error) {
	obj, err := store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	pf, err := file.NewParquetReader(obj)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", key, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", key, err)
	}
	tbl, err := fr.ReadTable(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", key, err)
	}
	defer tbl.Release()
	rows := make([]Row, tbl.NumRows())
	for i := range rows {
		rows[i] = Row{}
	}
	for c := 0; c < int(tbl.NumCols()); c++ {
		col := tbl.Column(c)
		i := 0
		for _, chunk := range col.Data().Chunks() {
			for j := 0; j < chunk.Len(); j++ {
				v, err := value(chunk, j)
				if err != nil {
					return nil, fmt.Errorf("reading %s column %s: %w", key, col.Name(), err)
				}
				rows[i][col.Name()] = v
				i++
			}
		}
	}
	return rows, nil
}

func value(a arrow.Array, i int) (any, error) {
	if a.IsNull(i) {
		return nil, nil
	}
	switch a := a.(type) {
	case *array.String:
		return a.Value(i), nil
	case *array.LargeString:
		return a.Value(i), nil
	case *array.Int32:
		return int64(a.Value(i)), nil
	case *array.Int64:
		return a.Value(i), nil
	case *array.Float64:
		return a.Value(i), nil
	case *array.Boolean:
		return a.Value(i), nil
	case *array.Decimal128:
		return a.Value(i).ToFloat64(a.DataType().(*arrow.Decimal128Type).Scale), nil
	case *array.Dictionary:
		return value(a.Dictionary(), a.GetValueIndex(i))
	case *array.Timestamp:
		return int64(a.Value(i)), nil
	case *array.Date32:
		return a.Value(i).ToTime().Format("2006-01-02"), nil
	}
	return nil, fmt.Errorf("unsupported type %s", a.DataType())
}

// WriteStateTable prints a state-year's comparison rows as a table: district, enrollment,
// students per counselor against the recommended level, support-staff gap, sworn
// officers, contract cost per student and arrests per 1,000. Unknown figures print as
// "unknown", never as zero.
func WriteStateTable(w io.Writer, state, schoolYear string, rows []Row) error {
	sort.SliceStable(rows, func(i, j int) bool { return str(rows[i]["district_name"]) < str(rows[j]["district_name"]) })
	noun := "districts"
	if len(rows) == 1 {
		noun = "district"
	}
	fmt.Fprintf(w, "%s %s: %d %s\n", state, schoolYear, len(rows), noun)
	cells := [][]string{{"DISTRICT", "NCES ID", "ENROLLMENT", "STUDENTS PER COUNSELOR", "SUPPORT-STAFF GAP (FTE)",
		"SWORN OFFICERS (FTE)", "CONTRACT $ PER STUDENT", "ARRESTS PER 1,000"}}
	for _, r := range rows {
		cells = append(cells, []string{
			str(r["district_name"]), str(r["nces_lea_id"]), integer(r["enrollment"]),
			perCounselor(r), decimal(r["support_gap_fte_total"], 1), decimal(r["sworn_officers_fte"], 1),
			contractCost(r), decimal(r["arrests_per_1000"], 2)})
	}
	_, err := io.WriteString(w, columns(cells, 2))
	return err
}

// columns lays out cells in columns two spaces apart: the first left columns aligned
// left, the others right.
func columns(cells [][]string, left int) string {
	var widths []int
	for _, row := range cells {
		for i, c := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, row := range cells {
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString("  ")
			}
			if i < left {
				b.WriteString(c)
				if i < len(row)-1 {
					b.WriteString(pad)
				}
			} else {
				b.WriteString(pad + c)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func perCounselor(r Row) string {
	ratio, ok := r["students_per_counselor"].(float64)
	rec := integer(r["recommended_students_per_counselor"])
	if !ok {
		if fte, ok := r["counselors_fte"].(float64); ok && fte == 0 {
			return "no counselor (vs " + rec + ")"
		}
		return "unknown"
	}
	cmp := ">"
	if meets, _ := r["meets_counselor_standard"].(bool); meets {
		cmp = "<="
	}
	return fmt.Sprintf("%s %s %s", report.Thousands(int64(math.Round(ratio))), cmp, rec)
}

// contractCost is the contract's cost per student, or why it is unknown: no contract is
// known, or one is known without its cost (with its status when known).
func contractCost(r Row) string {
	if _, ok := r["contract_cost_per_student"].(float64); ok {
		return money(r["contract_cost_per_student"])
	}
	if r["contract_agency_name"] == nil {
		return "no contract known"
	}
	if status := str(r["contract_status"]); status != "" {
		return "unknown (" + status + ")"
	}
	return "unknown"
}

func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

func integer(v any) string {
	switch v := v.(type) {
	case int64:
		return report.Thousands(v)
	case float64:
		return report.Thousands(int64(math.Round(v)))
	}
	return "unknown"
}

func decimal(v any, places int) string {
	switch v := v.(type) {
	case float64:
		return fmt.Sprintf("%.*f", places, v)
	case int64:
		return fmt.Sprintf("%.*f", places, float64(v))
	}
	return "unknown"
}

func money(v any) string {
	f, ok := v.(float64)
	if !ok {
		return "unknown"
	}
	whole := int64(math.Floor(f))
	cents := int64(math.Round((f - float64(whole)) * 100))
	if cents == 100 {
		whole, cents = whole+1, 0
	}
	return fmt.Sprintf("$%s.%02d", report.Thousands(whole), cents)
}
