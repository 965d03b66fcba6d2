package dataset

// Formats of a source file.
const (
	FormatCSV     = "csv"
	FormatJSON    = "json"
	FormatNDJSON  = "ndjson"
	FormatParquet = "parquet"
	// FormatCRDC is a Civil Rights Data Collection school file (CSV) as the Department of
	// Education publishes it.
	FormatCRDC = "crdc"
)

// Formats lists every source format.
func Formats() []string {
	return []string{FormatCSV, FormatJSON, FormatNDJSON, FormatParquet, FormatCRDC}
}

// DistrictDatasets lists the datasets a district's sources feed.
func DistrictDatasets() []string {
	return []string{Staffing, Incidents, Contracts}
}

// HasSchoolYear says whether a district dataset is partitioned by school year (contracts
// are not).
func HasSchoolYear(ds string) bool { return ds != Contracts }
