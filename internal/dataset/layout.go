package dataset

import "path"

// ObjectName is the one object of every partition.
const ObjectName = "data.parquet"

// DistrictKey is the key (below the lake's prefix) of one district's dataset for a school
// year; contracts have no school-year partition and ignore schoolYear.
func DistrictKey(ds, state, schoolYear, ncesID string) string {
	if ds == Contracts {
		return path.Join(ds, "state="+state, "district="+ncesID, ObjectName)
	}
	return path.Join(ds, "state="+state, "school_year="+schoolYear, "district="+ncesID, ObjectName)
}

// StateKey is the key of a statewide dataset (comparison, comparison_groups) for a year.
func StateKey(ds, state, schoolYear string) string {
	return path.Join(ds, "state="+state, "school_year="+schoolYear, ObjectName)
}

// ReportKey is the key of a state's HTML report for a year.
func ReportKey(state, schoolYear string) string {
	return path.Join("reports", "state="+state, "school_year="+schoolYear, "index.html")
}

// RunManifestKey is the key of a run's manifest.
func RunManifestKey(runID string) string {
	return path.Join("_runs", runID+".json")
}

// RunRecordsKey is the key of a file of many runs' manifests, one JSON object per line,
// written by `districtlake run` for its districts; id is made as a run id is.
func RunRecordsKey(id string) string {
	return path.Join("_runs", id+".ndjson")
}
