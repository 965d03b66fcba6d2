package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SharedFormat names how a shared (national) file is written.
// +kubebuilder:validation:Enum=csv;ndjson;parquet;crdc
type SharedFormat string

const (
	SharedFormatCSV     SharedFormat = "csv"
	SharedFormatNDJSON  SharedFormat = "ndjson"
	SharedFormatParquet SharedFormat = "parquet"
	SharedFormatCRDC    SharedFormat = "crdc"
)

// SharedSourceSpec is one national file that many DistrictSources read: where it comes
// from, how it is written, and when to fetch it again.
// +kubebuilder:validation:XValidation:rule="[has(self.http), has(self.s3), has(self.configMapRef)].filter(x, x).size() == 1",message="set exactly one of http, s3 or configMapRef"
// +kubebuilder:validation:XValidation:rule="self.format == 'crdc' || has(self.districtColumn)",message="districtColumn names the column holding the LEAID: required unless format is crdc"
// +kubebuilder:validation:XValidation:rule="!has(self.encoding) || self.encoding == 'utf-8' || self.format != 'parquet'",message="a parquet file is always UTF-8: encoding applies to csv, ndjson and crdc"
type SharedSourceSpec struct {
	// http fetches the file over http(s), optionally one member of a ZIP archive.
	// +optional
	HTTP *HTTPSource `json:"http,omitempty"`
	// s3 reads the file from an object store, optionally one member of a ZIP archive.
	// +optional
	S3 *S3Source `json:"s3,omitempty"`
	// configMapRef reads the file from a key of a ConfigMap in the same namespace: for small
	// files (a ConfigMap holds at most 1 MiB), such as the samples' national-style file.
	// There is no conditional fetch: every run reads the key and lands a revision only when
	// its content changed.
	// +optional
	ConfigMapRef *ConfigMapKeyReference `json:"configMapRef,omitempty"`
	// format of the file: crdc (a CRDC school file, whose LEAID column is known), or csv,
	// ndjson or parquet with districtColumn naming the column that holds the LEAID.
	// +required
	Format SharedFormat `json:"format"`
	// districtColumn is the column holding each row's 7-digit NCES LEA ID. LEAID when
	// empty for the crdc format.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	DistrictColumn string `json:"districtColumn,omitempty"`
	// schoolYear the file describes, such as 2021-22.
	// +required
	SchoolYear SchoolYear `json:"schoolYear"`
	// encoding of a text file: utf-8 (the default) or windows-1252.
	// +optional
	Encoding Encoding `json:"encoding,omitempty"`
	// delimiter of a csv file; a comma when empty.
	// +optional
	// +kubebuilder:validation:MaxLength=1
	Delimiter string `json:"delimiter,omitempty"`
	// maxBytes bounds the file's size as parsed (a ZIP member or a gzip file counts its
	// decompressed bytes); a larger file fails the run. 2 GiB when unset.
	// +optional
	// +kubebuilder:validation:Minimum=1
	MaxBytes *int64 `json:"maxBytes,omitempty"`
	// timeout bounds the fetch, such as 10m. 30m when unset.
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
	// lakeRef names the Lake (same namespace) the file is landed in. DistrictSources that
	// read this shared source must write to the same Lake.
	// +required
	LakeRef LocalObjectReference `json:"lakeRef"`

	ScheduleSpec `json:",inline"`

	// job adjusts the Jobs that fetch and land the file.
	// +optional
	Job *JobTemplate `json:"job,omitempty"`

	// rerunDistricts, when enabled, runs each DistrictSource that reads this shared source
	// once on every revision it lands (a corrected federal release), without a run-now
	// annotation on each: at most maxConcurrentJobs of these Jobs run at once, the others
	// wait for a slot. Off when unset.
	// +optional
	RerunDistricts *RerunDistricts `json:"rerunDistricts,omitempty"`
}

// RerunDistricts is the opt-in re-run of a shared source's DistrictSources on a new
// revision.
type RerunDistricts struct {
	// enabled turns the re-run on. A DistrictSource re-runs once per revision: the revision
	// its last re-run read is kept in its status.sharedRevisions, so a manager restart
	// neither repeats nor loses a re-run. A DistrictSource that is suspended, or that has
	// not run on the current revision when this is turned on, is handled the same way: it
	// runs once on the current revision (a suspended one when it is resumed).
	// +required
	Enabled bool `json:"enabled"`
	// maxConcurrentJobs bounds how many re-run Jobs of this shared source's DistrictSources
	// run at once (in the namespace); the others wait, Reconciling, until one ends. Runs
	// started by a schedule or a run-now annotation are not counted. 10 when unset.
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	MaxConcurrentJobs *int32 `json:"maxConcurrentJobs,omitempty"`
}

// DefaultMaxConcurrentRerunJobs is rerunDistricts.maxConcurrentJobs when unset.
const DefaultMaxConcurrentRerunJobs = 10

// SharedArtifact is one landed revision of a shared source: the file as fetched, written
// to the lake as one object per state with an index, so that one district's rows are read
// on their own.
type SharedArtifact struct {
	// revision identifies the landed revision: the first 16 hex digits of digest.
	// +required
	Revision string `json:"revision"`
	// digest is the sha256 of the file as parsed (a ZIP member, a gzip file's content),
	// written sha256:<hex>.
	// +required
	Digest string `json:"digest"`
	// bytes is the size of the file as parsed.
	// +optional
	Bytes int64 `json:"bytes,omitempty"`
	// rows is how many rows the file has.
	// +optional
	Rows int64 `json:"rows,omitempty"`
	// districts is how many distinct districts (LEAIDs) the file has.
	// +optional
	Districts int32 `json:"districts,omitempty"`
	// landedAt is when the revision was landed.
	// +optional
	LandedAt *metav1.Time `json:"landedAt,omitempty"`
	// key is the lake prefix of this revision's objects, named as layout says.
	// +required
	Key string `json:"key"`
	// manifestKey is the lake key of the pointer to the current revision, written after the
	// revision's object.
	// +optional
	ManifestKey string `json:"manifestKey,omitempty"`
	// layout is how the objects under key are laid out: state-file (fips=<SS>.csv, or
	// .ndjson, one per state, SS being the first two digits of its LEAIDs, with its
	// districts' rows in LEAID order after the file's header; and fips=<SS>.index, where
	// each district's rows are). A revision landed by an earlier release has
	// district-file (district=<LEAID>.csv), or no layout (district=<LEAID>/data.csv);
	// districts go on reading it until a new revision lands.
	// +optional
	Layout string `json:"layout,omitempty"`
	// etag is the origin's ETag of the fetched file, sent back (If-None-Match) on the next
	// fetch so that an unchanged file is not downloaded again.
	// +optional
	ETag string `json:"etag,omitempty"`
	// lastModified is the origin's Last-Modified date of the fetched file, sent back
	// (If-Modified-Since) on the next fetch.
	// +optional
	LastModified string `json:"lastModified,omitempty"`
}

// SharedSourceStatus is the observed state of a SharedSource.
type SharedSourceStatus struct {
	WorkloadStatus `json:",inline"`

	// artifact is the revision landed by the last successful run that found a new file.
	// +optional
	Artifact *SharedArtifact `json:"artifact,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=shs,categories=districtlake
// +kubebuilder:printcolumn:name="Format",type=string,JSONPath=`.spec.format`
// +kubebuilder:printcolumn:name="Year",type=string,JSONPath=`.spec.schoolYear`
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.status.artifact.revision`
// +kubebuilder:printcolumn:name="Districts",type=integer,JSONPath=`.status.artifact.districts`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Rows",type=integer,JSONPath=`.status.artifact.rows`,priority=1
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1

// SharedSource is one national file (such as a CRDC school file) that many DistrictSources
// read: fetched once, landed in the lake once, read by every district that names it.
type SharedSource struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is where the file is and how it is written.
	// +required
	Spec SharedSourceSpec `json:"spec"`
	// status is what the last runs did and the landed artifact.
	// +optional
	Status SharedSourceStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// SharedSourceList is a list of SharedSources.
type SharedSourceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SharedSource `json:"items"`
}

func init() {
	SchemeBuilder.Register(&SharedSource{}, &SharedSourceList{})
}
