package ingest

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/districtlake/districtlake/internal/plan"
)

// Manifest is the record of one successful run, written to _runs/<run-id>.json after
// every dataset is published: what was read (where from, how many bytes, checksums), what
// was written, which checks ran and how long it took. It never holds a secret.
type Manifest struct {
	RunID      string           `json:"runID"`
	Plan       ManifestPlan     `json:"plan"`
	District   plan.District    `json:"district"`
	Lake       string           `json:"lake"`
	StartedAt  time.Time        `json:"startedAt"`
	FinishedAt time.Time        `json:"finishedAt"`
	Seconds    float64          `json:"seconds"`
	Sources    []ManifestSource `json:"sources"`
	Objects    []ManifestObject `json:"objects"`
	Checks     []string         `json:"checks"`
}

// ManifestPlan names the plan that ran.
type ManifestPlan struct {
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// ManifestSource is what a run read from one source.
type ManifestSource struct {
	Name       string `json:"name"`
	Dataset    string `json:"dataset"`
	Format     string `json:"format"`
	SchoolYear string `json:"schoolYear,omitempty"`
	// Location is the URL, s3://bucket/key, path or "inline", without credentials.
	Location string `json:"location"`
	// Member is the file read out of the ZIP archive at Location.
	Member string `json:"member,omitempty"`
	// Bytes is the size of the file as parsed (the member, the decompressed content) and
	// SHA256 its checksum; FetchedBytes is what came from the origin: the ranges of an
	// archive read, the whole archive when Spooled (its server answers no ranges), the
	// compressed bytes of a Gzip file.
	Bytes        int64  `json:"bytes"`
	FetchedBytes int64  `json:"fetchedBytes"`
	Gzip         bool   `json:"gzip,omitempty"`
	Spooled      bool   `json:"spooled,omitempty"`
	SHA256       string `json:"sha256"`
	ETag         string `json:"etag,omitempty"`
	// CRDCFile is the CRDC layout the header was recognised as (crdc format), such as
	// "2020-21 School Support" or "2015-16 School Data".
	CRDCFile string `json:"crdcFile,omitempty"`
	// UnmappedColumns are the columns of a CRDC file the preset did not read, in the
	// file's order: nothing is dropped unseen.
	UnmappedColumns []string `json:"unmappedColumns,omitempty"`
	// Repairs counts the rows of a CRDC file whose documented damage was repaired, by
	// kind: leaidPadded (a 6-digit LEAID given its leading zero), combokeyRebuilt (a
	// COMBOKEY in scientific notation or of the wrong length rebuilt from LEAID and SCHID).
	Repairs map[string]int64 `json:"repairs,omitempty"`
	// RowsRead is every data row; RowsOtherDistricts those dropped by the LEA filter;
	// RowsKept the district's; RowsWritten the canonical rows they made.
	RowsRead           int64 `json:"rowsRead"`
	RowsOtherDistricts int64 `json:"rowsOtherDistricts"`
	RowsKept           int64 `json:"rowsKept"`
	RowsWritten        int64 `json:"rowsWritten"`
	// ReserveCodes counts the CRDC reserve codes made null, per source column and code.
	ReserveCodes map[string]map[string]int64 `json:"reserveCodes,omitempty"`
	// ReserveCells counts the same cells by what their code means: suppressed (-2, -11,
	// -12: the figure exists but is withheld), notApplicable (-9, -13: the question did not
	// apply) and missing (-3 to -8: not reported).
	ReserveCells *ReserveCells `json:"reserveCells,omitempty"`
	// JusticeFacilitySchools are the COMBOKEYs of the kept JJ=Yes rows.
	JusticeFacilitySchools []string `json:"justiceFacilitySchools,omitempty"`
	// TotalMismatches are CRDC TOT_ cells that differ from the sum of their known cells.
	TotalMismatches []string `json:"totalMismatches,omitempty"`
	Seconds         float64  `json:"seconds"`
	MBPerSecond     float64  `json:"mbPerSecond"`
}

// ReserveCells counts CRDC reserve-code cells by meaning.
type ReserveCells struct {
	Suppressed    int64 `json:"suppressed"`
	NotApplicable int64 `json:"notApplicable"`
	Missing       int64 `json:"missing"`
}

// reserveCells sums reserve codes by meaning (nil when there are none).
func reserveCells(in map[string]map[int]int64) *ReserveCells {
	if len(in) == 0 {
		return nil
	}
	var rc ReserveCells
	for _, codes := range in {
		for code, n := range codes {
			switch code {
			case -2, -11, -12:
				rc.Suppressed += n
			case -9, -13:
				rc.NotApplicable += n
			default:
				rc.Missing += n
			}
		}
	}
	return &rc
}

// ManifestObject is one object a run published.
type ManifestObject struct {
	Dataset    string   `json:"dataset"`
	SchoolYear string   `json:"schoolYear,omitempty"`
	Key        string   `json:"key"`
	Rows       int64    `json:"rows"`
	Bytes      int64    `json:"bytes"`
	SHA256     string   `json:"sha256"`
	ETag       string   `json:"etag,omitempty"`
	Sources    []string `json:"sources"`
	Seconds    float64  `json:"seconds"`
}

// checks lists what every run checks, for the manifest.
func checks() []string {
	return []string{
		"each source within its byte limit and timeout",
		"sha256 of each source computed (and compared where the plan gives one)",
		"every column the column map names, and every required column, present",
		"csv: quoting well formed and every row as many fields as the header",
		"text valid UTF-8",
		"values of their canonical type: whole counts, FTE numbers, money with at most two decimals, real dates, known statuses and labels",
		"counts, FTE and money not negative",
		"NCES ids well formed: 7-digit LEA, 12-digit school id starting with the district's LEA id",
		"no FTE above the school's enrollment",
		"contracts end after they start; shares not above the annual cost",
		"no key twice in one source (school; school, category and group; agency and start date)",
		"sources of one dataset agree on every field they share",
		"at least one row of the district in each source",
		"every dataset written before any is published",
	}
}

func reserveJSON(in map[string]map[int]int64) map[string]map[string]int64 {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]map[string]int64, len(in))
	for col, codes := range in {
		m := make(map[string]int64, len(codes))
		for _, code := range slices.Sorted(maps.Keys(codes)) {
			m[strconv.Itoa(code)] = codes[code]
		}
		out[col] = m
	}
	return out
}

func (m *Manifest) encode() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the run manifest: %w", err)
	}
	return append(b, '\n'), nil
}
