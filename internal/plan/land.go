package plan

import (
	"errors"
	"fmt"
	"slices"
)

// Formats a shared source may have.
var sharedFormats = []string{"csv", "ndjson", "parquet", "crdc"}

// Landed reads one district's object of a shared source's landed revision, from the lake
// it was landed in (Lake carries the endpoint; credentials come from the lake's
// environment variables).
type Landed struct {
	Lake Lake `json:"lake"`
	// Key is the object of the revision that holds the district's rows: its own object, or
	// (when Index is set) its state's, where Index says which bytes are the district's.
	Key string `json:"key"`
	// Index is the index of Key's object (a revision landed one object per state).
	Index string `json:"index,omitempty"`
	// District is the LEAID whose rows Index locates.
	District string `json:"district,omitempty"`
	// Revision is the landed revision the key belongs to (for logs and the manifest).
	Revision string `json:"revision"`
	// SharedSource is the name of the SharedSource (for messages).
	SharedSource string `json:"sharedSource"`
}

// Previous is what the last landing saw of the origin: its validators, sent back so that
// an unchanged file costs one request and no download, and the artifact it landed.
type Previous struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	Revision     string `json:"revision,omitempty"`
}

// Land is the plan of one SharedSource run: fetch the national file and land it in the
// lake split by district.
type Land struct {
	Version   int    `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Source is the file: its http or s3 location, format, encoding, delimiter and limits.
	// Its Dataset is empty.
	Source Source `json:"source"`
	// DistrictColumn is the column holding the LEAID (LEAID for crdc when empty).
	DistrictColumn string    `json:"districtColumn,omitempty"`
	SchoolYear     string    `json:"schoolYear"`
	Lake           Lake      `json:"lake"`
	Previous       *Previous `json:"previous,omitempty"`
}

// Validate checks a land plan.
func (p *Land) Validate() error {
	var errs []error
	if p.Version != Version {
		errs = append(errs, fmt.Errorf("version %d is not supported (want %d)", p.Version, Version))
	}
	if p.Kind != KindLand {
		errs = append(errs, fmt.Errorf("kind %q is not %q", p.Kind, KindLand))
	}
	if p.Name == "" {
		errs = append(errs, errors.New("name is empty"))
	}
	if !schoolYearPattern.MatchString(p.SchoolYear) {
		errs = append(errs, fmt.Errorf("schoolYear %q is not like 2023-24", p.SchoolYear))
	}
	if !slices.Contains(sharedFormats, p.Source.Format) {
		errs = append(errs, fmt.Errorf("source: format %q is not %s", p.Source.Format, oneOf(sharedFormats)))
	}
	if p.Source.Format != "crdc" && p.DistrictColumn == "" {
		errs = append(errs, errors.New("districtColumn is empty: it names the column holding the LEAID"))
	}
	if n := countSet(p.Source.HTTP != nil, p.Source.S3 != nil, p.Source.File != nil, p.Source.Inline != nil); n != 1 {
		errs = append(errs, errors.New("source: set exactly one of http, s3, file or inline"))
	}
	if p.Source.S3 != nil {
		errs = append(errs, validateLake(p.Source.S3.Lake, "source: s3.lake"))
	}
	errs = append(errs, validateLake(p.Lake, "lake"))
	return errors.Join(errs...)
}

// ReadLand reads and checks a land plan file.
func ReadLand(path string) (*Land, error) {
	var p Land
	if err := readFile(path, &p); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("plan %s: %w", path, err)
	}
	return &p, nil
}

// countSet counts the true values.
func countSet(set ...bool) int {
	n := 0
	for _, b := range set {
		if b {
			n++
		}
	}
	return n
}
