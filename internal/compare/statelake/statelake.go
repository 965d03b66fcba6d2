// Package statelake writes district files (staffing, incidents, contracts) with the
// canonical schemas straight into a lake, for the comparison's tests and the synthetic
// state generator (hack/stategen). Rows are given as column name -> value maps; a column
// left out is null.
package statelake

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/lake"
)

// Row is one row: column name -> value. Values are string, int32, float64, bool,
// Cents (decimal(14,2)), Date (date32) or nil; a missing column is null.
type Row map[string]any

// Cents is a money amount in cents.
type Cents int64

// Date is a calendar date as "2006-01-02".
type Date string

// District names one district's files.
type District struct {
	State, SchoolYear, NCESID, Name string
}

// RunID is written in every generated row.
const RunID = "statelake"

// Write publishes rows as district d's file of dataset ds (staffing, incidents or
// contracts) at dataset.DistrictKey, with the keys and trailer columns filled in.
func Write(ctx context.Context, store lake.Store, ds string, d District, rows []Row) (string, error) {
	schema := dataset.Schema(ds)
	if schema == nil {
		return "", fmt.Errorf("dataset %q has no schema", ds)
	}
	key := dataset.DistrictKey(ds, d.State, d.SchoolYear, d.NCESID)
	rec, err := Record(schema, d, rows)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	defer rec.Release()
	w, err := store.Create(ctx, key)
	if err != nil {
		return "", err
	}
	meta := map[string]string{
		dataset.MetaSchemaVersion: dataset.SchemaVersion,
		dataset.MetaDataset:       ds,
		dataset.MetaDistrict:      d.NCESID,
		dataset.MetaState:         d.State,
		dataset.MetaRunID:         RunID,
		dataset.MetaSources:       `["statelake"]`,
	}
	fw, err := lake.NewParquetWriter(w, schema, meta)
	if err == nil {
		err = fw.Write(rec)
	}
	if err == nil {
		err = fw.Close()
	}
	if err != nil {
		w.Abort(err)
		return "", fmt.Errorf("writing %s: %w", key, err)
	}
	if _, err := w.Commit(); err != nil {
		return "", err
	}
	return key, nil
}

// Record builds rows as a record of schema, filling state, nces_lea_id, district_name,
// school_year, source, run_id and ingested_at from d unless a row sets them.
func Record(schema *arrow.Schema, d District, rows []Row) (arrow.RecordBatch, error) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	defaults := Row{
		"state": d.State, "nces_lea_id": d.NCESID, "district_name": d.Name,
		"source": "statelake", "run_id": RunID,
		"ingested_at": time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	if d.SchoolYear != "" {
		defaults["school_year"] = d.SchoolYear
	}
	for ri, r := range rows {
		for k := range r {
			if schema.FieldIndices(k) == nil {
				return nil, fmt.Errorf("row %d: no column %q", ri, k)
			}
		}
		for i, f := range schema.Fields() {
			v, ok := r[f.Name]
			if !ok {
				v = defaults[f.Name]
			}
			if err := appendValue(b.Field(i), v); err != nil {
				return nil, fmt.Errorf("row %d, column %s: %w", ri, f.Name, err)
			}
		}
	}
	return b.NewRecordBatch(), nil
}

func appendValue(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch b := b.(type) {
	case *array.StringBuilder:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%T is not a string", v)
		}
		b.Append(s)
	case *array.Int32Builder:
		n, ok := v.(int32)
		if !ok {
			return fmt.Errorf("%T is not an int32", v)
		}
		b.Append(n)
	case *array.Float64Builder:
		f, ok := v.(float64)
		if !ok {
			return fmt.Errorf("%T is not a float64", v)
		}
		b.Append(f)
	case *array.BooleanBuilder:
		x, ok := v.(bool)
		if !ok {
			return fmt.Errorf("%T is not a bool", v)
		}
		b.Append(x)
	case *array.Decimal128Builder:
		c, ok := v.(Cents)
		if !ok {
			return fmt.Errorf("%T is not Cents", v)
		}
		b.Append(decimal128.FromI64(int64(c)))
	case *array.Date32Builder:
		s, ok := v.(Date)
		if !ok {
			return fmt.Errorf("%T is not a Date", v)
		}
		t, err := time.Parse(time.DateOnly, string(s))
		if err != nil {
			return err
		}
		b.Append(arrow.Date32FromTime(t))
	case *array.TimestampBuilder:
		t, ok := v.(time.Time)
		if !ok {
			return fmt.Errorf("%T is not a time", v)
		}
		b.Append(arrow.Timestamp(t.UnixMicro()))
	default:
		return fmt.Errorf("unsupported builder %T", b)
	}
	return nil
}

// Sexes of the CRDC cells.
var Sexes = []string{"male", "female"}

// Cell is one CRDC incidents cell of a school and category.
type Cell struct {
	Race       string // "" for the overlapping breakdowns (English learners, Section 504)
	Sex        string
	Disability string // dataset.DisabilityNone, DisabilityIDEA or DisabilitySection504
	EL         bool
}

// Group is the cell's student_group name, such as black_male_idea.
func (c Cell) Group() string {
	switch {
	case c.EL:
		return "english_learner_" + c.Sex
	case c.Race == "":
		return c.Disability + "_" + c.Sex
	case c.Disability == dataset.DisabilityIDEA:
		return c.Race + "_" + c.Sex + "_idea"
	}
	return c.Race + "_" + c.Sex
}

// Cells are the CRDC cells of one school and category, as the incidents dataset holds
// them: race x sex x (without disability, IDEA), which partition the total, then English
// learners and Section 504 by sex, which overlap them.
func Cells() []Cell {
	var out []Cell
	for _, r := range dataset.RaceEthnicities {
		for _, s := range Sexes {
			for _, d := range []string{dataset.DisabilityNone, dataset.DisabilityIDEA} {
				out = append(out, Cell{Race: r.Name, Sex: s, Disability: d})
			}
		}
	}
	for _, s := range Sexes {
		out = append(out, Cell{Sex: s, EL: true})
	}
	for _, s := range Sexes {
		out = append(out, Cell{Sex: s, Disability: dataset.DisabilitySection504})
	}
	return out
}

// IncidentRows makes one school's incidents rows of a category: one per cell, with the
// count count(cell) gives (nil: null, a suppressed cell).
func IncidentRows(schoolID, schoolName, category string, count func(Cell) any) []Row {
	var rows []Row
	for _, c := range Cells() {
		r := Row{
			"nces_school_id": schoolID, "school_name": schoolName,
			"category": category, "student_group": c.Group(), "sex": c.Sex,
			"count": count(c),
		}
		if c.Race != "" {
			r["race_ethnicity"] = c.Race
		}
		if c.Disability != "" {
			r["disability"] = c.Disability
		}
		if c.EL {
			r["english_learner"] = true
		}
		rows = append(rows, r)
	}
	return rows
}
