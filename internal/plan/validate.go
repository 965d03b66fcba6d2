package plan

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/redact"
)

var (
	ncesIDPattern     = regexp.MustCompile(`^[0-9]{7}$`)
	statePattern      = regexp.MustCompile(`^[A-Z]{2}$`)
	schoolYearPattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}$`)
)

// Validate checks what a plan needs before any byte is fetched.
func (p *Ingest) Validate() error {
	var errs []error
	if p.Version != Version {
		errs = append(errs, fmt.Errorf("version %d is not supported (want %d)", p.Version, Version))
	}
	if p.Kind != KindIngest {
		errs = append(errs, fmt.Errorf("kind %q is not %q", p.Kind, KindIngest))
	}
	if !ncesIDPattern.MatchString(p.District.NCESID) {
		errs = append(errs, fmt.Errorf("district.ncesId %q is not a 7-digit NCES LEA ID", p.District.NCESID))
	}
	if !statePattern.MatchString(p.District.State) {
		errs = append(errs, fmt.Errorf("district.state %q is not a two-letter state code", p.District.State))
	}
	errs = append(errs, validateLake(p.Lake, "lake"))
	if err := p.Egress.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(p.Sources) == 0 {
		errs = append(errs, errors.New("no sources"))
	}
	seen := map[string]bool{}
	for i, s := range p.Sources {
		if seen[s.Name] {
			errs = append(errs, fmt.Errorf("sources[%d]: name %q is used twice", i, s.Name))
		}
		seen[s.Name] = true
		errs = append(errs, s.validate(fmt.Sprintf("sources[%d] (%s)", i, s.Name)))
	}
	return errors.Join(errs...)
}

func (s *Source) validate(where string) error {
	var errs []error
	switch {
	case !slices.Contains(dataset.DistrictDatasets(), s.Dataset):
		errs = append(errs, fmt.Errorf("%s: dataset %q is not %s", where, s.Dataset, oneOf(dataset.DistrictDatasets())))
	case dataset.HasSchoolYear(s.Dataset) && !schoolYearPattern.MatchString(s.SchoolYear):
		errs = append(errs, fmt.Errorf("%s: schoolYear %q is not like 2023-24", where, s.SchoolYear))
	}
	if !slices.Contains(dataset.Formats(), s.Format) {
		errs = append(errs, fmt.Errorf("%s: format %q is not %s", where, s.Format, oneOf(dataset.Formats())))
	}
	switch s.Encoding {
	case "", EncodingUTF8:
	case EncodingWindows1252:
		if s.Format == "parquet" {
			errs = append(errs, fmt.Errorf("%s: a parquet file is always UTF-8: encoding applies to csv, json, ndjson and crdc", where))
		}
	default:
		errs = append(errs, fmt.Errorf("%s: encoding %q is not utf-8 or windows-1252", where, s.Encoding))
	}
	kinds := 0
	for _, set := range []bool{s.HTTP != nil, s.S3 != nil, s.File != nil, s.Inline != nil, s.Landed != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		errs = append(errs, fmt.Errorf("%s: set exactly one of http, s3, file, inline or landed (%d set)", where, kinds))
	}
	if s.S3 != nil {
		errs = append(errs, validateLake(s.S3.Lake, where+": s3.lake"))
	}
	if s.HTTP != nil {
		errs = append(errs, s.HTTP.validate(where+": http"))
	}
	if s.Landed != nil {
		errs = append(errs, validateLake(s.Landed.Lake, where+": landed.lake"))
		if s.Landed.Key == "" {
			errs = append(errs, fmt.Errorf("%s: landed.key is empty", where))
		}
		if (s.Landed.Index == "") != (s.Landed.District == "") {
			errs = append(errs, fmt.Errorf("%s: landed.index and landed.district are set together or not at all", where))
		}
	}
	return errors.Join(errs...)
}

func validateLake(l Lake, where string) error {
	if err := l.Validate(); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// Validate checks a compare plan.
func (p *Compare) Validate() error {
	var errs []error
	if p.Version != Version {
		errs = append(errs, fmt.Errorf("version %d is not supported (want %d)", p.Version, Version))
	}
	if p.Kind != KindCompare {
		errs = append(errs, fmt.Errorf("kind %q is not %q", p.Kind, KindCompare))
	}
	if !statePattern.MatchString(p.State) {
		errs = append(errs, fmt.Errorf("state %q is not a two-letter state code", p.State))
	}
	if err := p.Egress.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(p.SchoolYears) == 0 {
		errs = append(errs, errors.New("no schoolYears"))
	}
	for _, y := range p.SchoolYears {
		if !schoolYearPattern.MatchString(y) {
			errs = append(errs, fmt.Errorf("schoolYear %q is not like 2023-24", y))
		}
	}
	for _, v := range p.Standards.All() {
		if v <= 0 {
			errs = append(errs, errors.New("every standard must be a positive number of students per FTE"))
			break
		}
	}
	errs = append(errs, validateLake(p.Lake, "lake"))
	return errors.Join(errs...)
}

// oneOf lists names as "a, b or c".
func oneOf(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// validate refuses a URL with user information: the plan is a ConfigMap that the view role
// reads, so a password there is a password anyone can read.
func (h *HTTP) validate(where string) error {
	u, err := url.Parse(h.URL)
	if err != nil {
		return fmt.Errorf("%s: url %q does not parse", where, redact.URL(h.URL))
	}
	if u.User != nil {
		return fmt.Errorf("%s: url %s holds user information (user:password@); send credentials in a header from a Secret", where, redact.URL(h.URL))
	}
	return nil
}
