// Package dataset holds the canonical Arrow schemas of the lake's datasets (staffing,
// incidents, contracts) and the rules every dataset shares: identifiers are strings, counts
// int32, FTE float64, money decimal(14,2) in US dollars, dates date32 and ingested_at a
// timestamp[us, UTC].
package dataset

import (
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
)

// SchemaVersion is written into every Parquet file's key-value metadata.
const SchemaVersion = "1"

// Metadata keys written into every Parquet file.
const (
	MetaSchemaVersion = "districtlake.schema_version"
	MetaDataset       = "districtlake.dataset"
	MetaDistrict      = "districtlake.district"
	MetaState         = "districtlake.state"
	MetaSources       = "districtlake.sources"
	MetaRunID         = "districtlake.run_id"
)

// Names of the datasets.
const (
	Staffing   = "staffing"
	Incidents  = "incidents"
	Contracts  = "contracts"
	Comparison = "comparison"
	// ComparisonGroups is the comparison by student group.
	ComparisonGroups = "comparison_groups"
)

// Arrow types of the canonical columns.
var (
	// Money is a US-dollar amount.
	Money = &arrow.Decimal128Type{Precision: 14, Scale: 2}
	// Timestamp is a point in time, microseconds, UTC.
	Timestamp = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
)

func str(name string, nullable bool) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.BinaryTypes.String, Nullable: nullable}
}
func i32(name string) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Int32, Nullable: true}
}
func f64(name string) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Float64, Nullable: true}
}
func money(name string) arrow.Field { return arrow.Field{Name: name, Type: Money, Nullable: true} }
func date(name string) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.FixedWidthTypes.Date32, Nullable: true}
}

// keyFields lead every row: where it is from and which run wrote it.
func keyFields(schoolYearNullable bool) []arrow.Field {
	return []arrow.Field{
		str("state", false),
		str("nces_lea_id", false),
		str("district_name", false),
		str("school_year", schoolYearNullable),
	}
}

// trailerFields end every row.
func trailerFields() []arrow.Field {
	return []arrow.Field{
		str("source", false),
		str("run_id", false),
		{Name: "ingested_at", Type: Timestamp, Nullable: false},
	}
}

func schema(fields ...[]arrow.Field) *arrow.Schema {
	var all []arrow.Field
	for _, f := range fields {
		all = append(all, f...)
	}
	return arrow.NewSchema(all, nil)
}

// Race/ethnicity values of the CRDC, as the canonical datasets spell them, with the CRDC's
// two-letter codes.
var RaceEthnicities = []struct{ Code, Name string }{
	{"HI", "hispanic"},
	{"AM", "american_indian_alaska_native"},
	{"AS", "asian"},
	{"HP", "native_hawaiian_pacific_islander"},
	{"BL", "black"},
	{"WH", "white"},
	{"TR", "two_or_more_races"},
}

// StaffingSchema: one row per school (nces_school_id null for a district total).
// enrollment is the school's total; the enrollment_* columns break it down where the
// source has them (null otherwise).
func StaffingSchema() *arrow.Schema { return staffingSchema() }

// staffingSchema builds StaffingSchema's schema once: an arrow.Schema is immutable, and
// a national run asks for it once per district.
var staffingSchema = sync.OnceValue(func() *arrow.Schema {
	enr := []arrow.Field{i32("enrollment")}
	for _, r := range RaceEthnicities {
		enr = append(enr, i32("enrollment_"+r.Name))
	}
	enr = append(enr,
		i32("enrollment_male"), i32("enrollment_female"), i32("enrollment_nonbinary"),
		i32("enrollment_idea"), i32("enrollment_section_504"), i32("enrollment_english_learner"),
	)
	return schema(
		keyFields(false),
		[]arrow.Field{str("nces_school_id", true), str("school_name", true)},
		enr,
		[]arrow.Field{
			f64("counselors_fte"), f64("nurses_fte"), f64("psychologists_fte"),
			f64("social_workers_fte"), f64("sworn_officers_fte"), f64("security_guards_fte"),
		},
		trailerFields(),
	)
})

// Incident categories the CRDC reports.
const (
	CategoryArrest                 = "arrest"
	CategoryLawEnforcementReferral = "law_enforcement_referral"
)

// Disability values of the incidents dataset.
const (
	DisabilityNone       = "without_disability"
	DisabilityIDEA       = "idea"
	DisabilitySection504 = "section_504"
)

// IncidentsSchema: long form, one row per school, category and CRDC cell.
//
// Rows whose race_ethnicity is set partition the school's count: summing them (over
// race_ethnicity, sex and disability without_disability/idea) gives the total. Rows with
// race_ethnicity null are overlapping breakdowns (english_learner = true, or disability =
// section_504) and must not be added to that total. student_group names the cell, such as
// black_male_idea or english_learner_female. A null count is unknown (a CRDC reserve code),
// never zero.
func IncidentsSchema() *arrow.Schema { return incidentsSchema() }

// incidentsSchema builds IncidentsSchema's schema once: an arrow.Schema is immutable, and
// a national run asks for it once per district.
var incidentsSchema = sync.OnceValue(func() *arrow.Schema {
	return schema(
		keyFields(false),
		[]arrow.Field{
			str("nces_school_id", true), str("school_name", true),
			str("category", false), str("student_group", false),
			str("race_ethnicity", true), str("sex", true), str("disability", true),
			{Name: "english_learner", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
			i32("count"),
		},
		trailerFields(),
	)
})

// Contract statuses.
var ContractStatuses = []string{"active", "expired", "terminated", "suspended"}

// ContractsSchema: one row per agreement between the district and a police agency.
// school_year is the year the source was given for, or null.
func ContractsSchema() *arrow.Schema { return contractsSchema() }

// contractsSchema builds ContractsSchema's schema once: an arrow.Schema is immutable, and
// a national run asks for it once per district.
var contractsSchema = sync.OnceValue(func() *arrow.Schema {
	return schema(
		keyFields(true),
		[]arrow.Field{
			str("agency_name", false), str("agency_type", true),
			date("start_date"), date("end_date"), str("status", true),
			money("annual_cost"), money("district_share"), money("agency_share"),
			i32("officers"), i32("training_hours"),
			str("source_url", true), str("notes", true),
		},
		trailerFields(),
	)
})

// Schema returns the schema of a district dataset by name, or nil.
func Schema(name string) *arrow.Schema {
	switch name {
	case Staffing:
		return StaffingSchema()
	case Incidents:
		return IncidentsSchema()
	case Contracts:
		return ContractsSchema()
	}
	return nil
}
