package ingest

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/districtlake/districtlake/internal/dataset"
)

// rule is how a source cell becomes a canonical value.
type rule uint8

const (
	ruleText       rule = iota // trimmed text, valid UTF-8
	ruleSchoolID               // 12-digit NCES school id of the plan's district
	ruleLEAID                  // 7-digit NCES LEA id (rows of other districts are dropped)
	ruleCount                  // non-negative int32
	ruleFTE                    // non-negative float64
	ruleMoney                  // non-negative decimal(14,2)
	ruleDate                   // yyyy-mm-dd or m/d/yyyy
	ruleStatus                 // active | expired | terminated | suspended
	ruleBool                   // true/false, yes/no, 1/0
	ruleSex                    // male | female | nonbinary
	ruleRace                   // dataset.RaceEthnicities name (or CRDC code)
	ruleDisability             // without_disability | idea | section_504
	ruleCategory               // arrest | law_enforcement_referral | another label
	ruleLabel                  // a label, normalised to lower_snake_case
)

// field is a canonical column a source may fill.
type field struct {
	name     string
	rule     rule
	col      int  // index in the dataset schema; -1 for ruleLEAID (a filter, not stored)
	required bool // a row without it is an error
}

// spec describes one canonical dataset for ingest.
type spec struct {
	name   string
	schema *arrow.Schema
	// fields a source may fill, in schema order.
	fields []field
	// requiredColumns must be in every source's header (or map).
	requiredColumns []string
	// keyCols identify a row: duplicates within a source are errors, and rows of several
	// sources with the same key are merged.
	keyCols []int
	// uniqueCols hold a different value in almost every row: Parquet dictionary encoding
	// would only cost time there.
	uniqueCols []string
	// colEnrollment and fteCols are the staffing columns the FTE rule compares (-1, nil
	// for other datasets).
	colEnrollment int
	fteCols       []int
	// Columns the plan fills.
	colState, colLEA, colDistrict, colYear, colSource, colRunID, colIngested int
}

func (s *spec) col(name string) int {
	i := s.schema.FieldIndices(name)
	if len(i) != 1 {
		panic(fmt.Sprintf("dataset %s has no column %s", s.name, name))
	}
	return i[0]
}

func (s *spec) field(name string) (field, bool) {
	for _, f := range s.fields {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

// fieldNames lists what a column map may name.
func (s *spec) fieldNames() string {
	names := make([]string, len(s.fields))
	for i, f := range s.fields {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}

// specFor returns the ingest description of a dataset.
func specFor(ds string) (*spec, error) {
	sch := dataset.Schema(ds)
	if sch == nil {
		return nil, fmt.Errorf("dataset %q is not staffing, incidents or contracts", ds)
	}
	s := &spec{name: ds, schema: sch, colEnrollment: -1}
	s.colState, s.colLEA, s.colDistrict = s.col("state"), s.col("nces_lea_id"), s.col("district_name")
	s.colYear, s.colSource, s.colRunID, s.colIngested = s.col("school_year"), s.col("source"), s.col("run_id"), s.col("ingested_at")
	add := func(name string, r rule, required bool) {
		s.fields = append(s.fields, field{name: name, rule: r, col: s.col(name), required: required})
	}
	switch ds {
	case dataset.Staffing:
		add("nces_school_id", ruleSchoolID, false)
		add("school_name", ruleText, false)
		for i := range sch.NumFields() {
			f := sch.Field(i)
			switch {
			case strings.HasPrefix(f.Name, "enrollment"):
				add(f.Name, ruleCount, false)
			case strings.HasSuffix(f.Name, "_fte"):
				add(f.Name, ruleFTE, false)
			}
		}
		s.requiredColumns = []string{"nces_school_id"}
		s.keyCols = []int{s.col("nces_school_id")}
		s.uniqueCols = []string{"nces_school_id", "school_name"}
		s.colEnrollment = s.col("enrollment")
		for _, f := range s.fields {
			if f.rule == ruleFTE {
				s.fteCols = append(s.fteCols, f.col)
			}
		}
	case dataset.Incidents:
		add("nces_school_id", ruleSchoolID, false)
		add("school_name", ruleText, false)
		add("category", ruleCategory, true)
		add("student_group", ruleLabel, true)
		add("race_ethnicity", ruleRace, false)
		add("sex", ruleSex, false)
		add("disability", ruleDisability, false)
		add("english_learner", ruleBool, false)
		add("count", ruleCount, false)
		s.requiredColumns = []string{"nces_school_id", "category", "student_group", "count"}
		s.keyCols = []int{s.col("nces_school_id"), s.col("category"), s.col("student_group")}
	case dataset.Contracts:
		add("agency_name", ruleText, true)
		add("agency_type", ruleText, false)
		add("start_date", ruleDate, false)
		add("end_date", ruleDate, false)
		add("status", ruleStatus, false)
		add("annual_cost", ruleMoney, false)
		add("district_share", ruleMoney, false)
		add("agency_share", ruleMoney, false)
		add("officers", ruleCount, false)
		add("training_hours", ruleCount, false)
		add("source_url", ruleText, false)
		add("notes", ruleText, false)
		s.requiredColumns = []string{"agency_name"}
		s.keyCols = []int{s.col("agency_name"), s.col("start_date")}
	default:
		return nil, fmt.Errorf("dataset %q cannot be ingested", ds)
	}
	// nces_lea_id may come from the source too: rows of other districts are dropped.
	s.fields = append(s.fields, field{name: "nces_lea_id", rule: ruleLEAID, col: -1})
	return s, nil
}
