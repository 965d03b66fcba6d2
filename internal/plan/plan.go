// Package plan is the contract between the operator and its Jobs: the run plans that
// internal/render renders from the custom resources into ConfigMaps and that `districtlake
// ingest` and `districtlake compare` execute (what to fetch, how to map it and where to
// write it), and their validation. It imports no Kubernetes package. A plan never holds a
// secret value, only the names of the environment variables that carry one.
package plan

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/egress"
	"github.com/districtlake/districtlake/internal/lake"
)

// Version is the plan format's version; a binary refuses a plan of another version.
const Version = 1

// Kinds of plan.
const (
	KindIngest  = "ingest"
	KindCompare = "compare"
	KindLand    = "land"
)

// Environment variables through which a Job receives the Lake's credentials.
const (
	EnvLakeAccessKeyID     = "DISTRICTLAKE_LAKE_ACCESS_KEY_ID"
	EnvLakeSecretAccessKey = "DISTRICTLAKE_LAKE_SECRET_ACCESS_KEY"
)

// Lake says where the lake is: the lake package's own configuration, as the plan carries
// it.
type Lake = lake.Config

// Egress is the policy on the addresses the http and s3 sources may connect to, as the
// cluster admin set it on the manager (the local CLI's flags for a local run). The zero
// value, which a plan without the field has, allows every address.
type Egress = egress.Policy

// Encodings of a text source.
const (
	EncodingUTF8        = "utf-8"
	EncodingWindows1252 = "windows-1252"
)

// Lake types.
const (
	LakeS3   = lake.TypeS3
	LakeFile = lake.TypeFile
)

// District identifies the district a plan ingests.
type District struct {
	NCESID string `json:"ncesId"`
	Name   string `json:"name"`
	State  string `json:"state"`
}

// Header is an HTTP request header whose value is in an environment variable.
type Header struct {
	Name     string `json:"name"`
	ValueEnv string `json:"valueEnv"`
}

// HTTP fetches a source over http(s).
type HTTP struct {
	URL     string   `json:"url"`
	Headers []Header `json:"headers,omitempty"`
	// Member is the exact path of the file to read inside the ZIP archive at URL.
	Member string `json:"member,omitempty"`
}

// S3 reads a source object from a bucket; Lake carries the endpoint and credentials.
type S3 struct {
	Lake   Lake   `json:"lake"`
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// Member is the exact path of the file to read inside the ZIP archive at Key.
	Member string `json:"member,omitempty"`
}

// File reads a source from a local path (a mounted ConfigMap key in a Job).
type File struct {
	Path string `json:"path"`
}

// Source is one file feeding one dataset.
type Source struct {
	Name    string `json:"name"`
	Dataset string `json:"dataset"`
	Format  string `json:"format"`
	// Encoding is "utf-8" (or empty) or "windows-1252".
	Encoding   string `json:"encoding,omitempty"`
	SchoolYear string `json:"schoolYear,omitempty"`
	HTTP       *HTTP  `json:"http,omitempty"`
	S3         *S3    `json:"s3,omitempty"`
	File       *File  `json:"file,omitempty"`
	// Landed reads this district's rows of a landed shared source's revision.
	Landed    *Landed           `json:"landed,omitempty"`
	Inline    *string           `json:"inline,omitempty"`
	Columns   map[string]string `json:"columns,omitempty"`
	Delimiter string            `json:"delimiter,omitempty"`
	SHA256    string            `json:"sha256,omitempty"`
	// MaxBytes bounds the download; 0 means the default.
	MaxBytes int64 `json:"maxBytes,omitempty"`
	// TimeoutSeconds bounds the fetch; 0 means the default.
	TimeoutSeconds int64 `json:"timeoutSeconds,omitempty"`
}

// Ingest is the plan of one DistrictSource run.
type Ingest struct {
	Version   int      `json:"version"`
	Kind      string   `json:"kind"`
	Namespace string   `json:"namespace,omitempty"`
	Name      string   `json:"name"`
	District  District `json:"district"`
	Lake      Lake     `json:"lake"`
	Sources   []Source `json:"sources"`
	// Egress limits the addresses the sources are fetched from and the Lake's client
	// connects to.
	Egress Egress `json:"egress,omitzero"`
}

// Compare is the plan of one StateComparison run.
type Compare struct {
	Version     int      `json:"version"`
	Kind        string   `json:"kind"`
	Namespace   string   `json:"namespace,omitempty"`
	Name        string   `json:"name"`
	State       string   `json:"state"`
	SchoolYears []string `json:"schoolYears"`
	// Standards are students per FTE of each role.
	Standards dataset.Standards `json:"standards"`
	// Costs are annual US-dollar costs of one FTE of each role; nil means unknown.
	Costs *dataset.Costs `json:"costs,omitempty"`
	Lake  Lake           `json:"lake"`
	// Egress limits the addresses the Lake's client connects to.
	Egress Egress `json:"egress,omitzero"`
}

// Marshal renders a plan as indented JSON.
func Marshal(p any) ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding plan: %w", err)
	}
	return append(b, '\n'), nil
}

// ReadIngest reads and checks an ingest plan file.
func ReadIngest(path string) (*Ingest, error) {
	var p Ingest
	if err := readFile(path, &p); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("plan %s: %w", path, err)
	}
	return &p, nil
}

// ReadCompare reads and checks a compare plan file.
func ReadCompare(path string) (*Compare, error) {
	var p Compare
	if err := readFile(path, &p); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("plan %s: %w", path, err)
	}
	return &p, nil
}

func readFile(path string, into any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading plan: %w", err)
	}
	if err := json.Unmarshal(b, into); err != nil {
		return fmt.Errorf("plan %s is not valid JSON: %w", path, err)
	}
	return nil
}
