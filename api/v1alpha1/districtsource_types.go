package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Dataset names a canonical dataset of the lake.
// +kubebuilder:validation:Enum=staffing;incidents;contracts
type Dataset string

const (
	DatasetStaffing  Dataset = "staffing"
	DatasetIncidents Dataset = "incidents"
	DatasetContracts Dataset = "contracts"
)

// Format names how a source file is written.
// +kubebuilder:validation:Enum=csv;json;ndjson;parquet;crdc
type Format string

const (
	FormatCSV     Format = "csv"
	FormatJSON    Format = "json"
	FormatNDJSON  Format = "ndjson"
	FormatParquet Format = "parquet"
	// FormatCRDC is a Civil Rights Data Collection school file (CSV) as the Department of
	// Education publishes it; its columns are known, so no column map is needed.
	FormatCRDC Format = "crdc"
)

// Encoding names the character encoding of a text source file.
// +kubebuilder:validation:Enum=utf-8;windows-1252
type Encoding string

const (
	EncodingUTF8 Encoding = "utf-8"
	// EncodingWindows1252 is the Windows code page some published files (such as the
	// 2015-16 CRDC) are written in.
	EncodingWindows1252 Encoding = "windows-1252"
)

// District identifies one school district (local education agency).
type District struct {
	// ncesId is the district's 7-digit NCES LEA ID, leading zeros kept, such as 0100005.
	// +required
	// +kubebuilder:validation:Pattern=`^[0-9]{7}$`
	NCESID string `json:"ncesId"`
	// name is the district's name as it should appear in reports, without control characters
	// (line breaks, tabs, escapes).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^[^\x00-\x1F\x7F-\x9F]+$`
	Name string `json:"name"`
	// state is the two-letter USPS code of the district's state.
	// +required
	State StateCode `json:"state"`
}

// HTTPSource fetches a file over http or https.
type HTTPSource struct {
	// url of the file; http:// or https:// only, without user information (user:password@):
	// a credential goes in a header whose value comes from a Secret. Query values are
	// redacted in every message, log and run manifest.
	// +required
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && (self.startsWith('http://') || self.startsWith('https://'))",message="url must be an http:// or https:// URL"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[A-Za-z]+://[^/?#]*@')",message="url must not hold user information (user:password@): pass credentials in a header from a Secret"
	URL string `json:"url"`
	// headers are request headers whose values come from Secrets, such as an API token.
	// They reach the Job as environment variables only.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	Headers []HTTPHeader `json:"headers,omitempty"`
	// member is the exact path of one file inside a ZIP archive at url, such as
	// "SCH/School Support.csv": the run reads that file out of the archive. The archive is
	// recognised by its content, so the url need not end in .zip. When the server answers
	// range requests, only the archive's central directory and the member's bytes are
	// fetched; otherwise the archive is downloaded once to the Job's scratch space. A name
	// not in the archive fails the run with the archive's closest names.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="!self.endsWith('/') && !self.startsWith('/')",message="member is the path of a file inside the archive, such as SCH/School Support.csv: no leading slash, not a folder"
	Member string `json:"member,omitempty"`
}

// HTTPHeader is one request header whose value is read from a Secret.
type HTTPHeader struct {
	// name of the header, such as Authorization.
	// +required
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9-]+$`
	// +kubebuilder:validation:MaxLength=128
	Name string `json:"name"`
	// valueFrom is the Secret key holding the header's value.
	// +required
	ValueFrom SecretKeyReference `json:"valueFrom"`
}

// S3Source reads one object from an S3-compatible store.
type S3Source struct {
	// bucket holding the object.
	// +required
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=63
	Bucket string `json:"bucket"`
	// key of the object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Key string `json:"key"`
	// lakeRef names a Lake whose endpoint and credentials reach the bucket; the
	// DistrictSource's own lake when empty.
	// +optional
	LakeRef *LocalObjectReference `json:"lakeRef,omitempty"`
	// member is the exact path of one file inside the object when the object is a ZIP
	// archive, such as "SCH/School Support.csv": only the archive's central directory and
	// the member's bytes are read (ranged GETs). A name not in the archive fails the run
	// with the archive's closest names.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="!self.endsWith('/') && !self.startsWith('/')",message="member is the path of a file inside the archive, such as SCH/School Support.csv: no leading slash, not a folder"
	Member string `json:"member,omitempty"`
}

// ConfigMapKeyReference names one key of a ConfigMap in the same namespace.
type ConfigMapKeyReference struct {
	// name of the ConfigMap.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// key of the file within the ConfigMap's data.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key"`
}

// Source is one file that feeds one dataset of the district.
// +kubebuilder:validation:XValidation:rule="[has(self.http), has(self.s3), has(self.configMapRef), has(self.inline), has(self.sharedSourceRef)].filter(x, x).size() == 1",message="set exactly one of http, s3, configMapRef, inline or sharedSourceRef"
// +kubebuilder:validation:XValidation:rule="has(self.format) || has(self.sharedSourceRef)",message="format is required unless the source is a sharedSourceRef"
// +kubebuilder:validation:XValidation:rule="!has(self.format) || self.format != 'crdc' || self.dataset != 'contracts'",message="the crdc format has no contracts file"
// +kubebuilder:validation:XValidation:rule="!has(self.encoding) || self.encoding == 'utf-8' || !has(self.format) || self.format != 'parquet'",message="a parquet file is always UTF-8: encoding applies to csv, json, ndjson and crdc"
type Source struct {
	// name identifies the source within the DistrictSource (in status, logs and the run
	// manifest).
	// +required
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`
	Name string `json:"name"`
	// dataset the source feeds: staffing, incidents or contracts. Several sources of one
	// dataset are joined on the school (NCES school ID / CRDC COMBOKEY).
	// +required
	Dataset Dataset `json:"dataset"`
	// format of the file: csv, json (an array of objects), ndjson, parquet or crdc.
	// Required, except for a sharedSourceRef, whose format comes from the SharedSource.
	// +optional
	Format Format `json:"format,omitempty"`
	// encoding of a text file: utf-8 (the default) or windows-1252, which is read as such
	// and turned into UTF-8. A file that is not valid UTF-8 without it fails, naming the row.
	// +optional
	Encoding Encoding `json:"encoding,omitempty"`
	// schoolYear the file describes, such as 2023-24. Required for staffing and incidents.
	// +optional
	SchoolYear SchoolYear `json:"schoolYear,omitempty"`
	// http fetches the file over http(s). A gzip-compressed file is recognised by its first
	// bytes and decompressed as it is read (as is an s3 object's).
	// +optional
	HTTP *HTTPSource `json:"http,omitempty"`
	// s3 reads the file from an object store.
	// +optional
	S3 *S3Source `json:"s3,omitempty"`
	// configMapRef reads the file from a key of a ConfigMap in the same namespace.
	// +optional
	ConfigMapRef *ConfigMapKeyReference `json:"configMapRef,omitempty"`
	// sharedSourceRef reads the district's rows of a SharedSource (same namespace, same
	// Lake): the national file is fetched and landed once, and the run reads only this
	// district's rows of its current revision. A SharedSource that does not exist (or lands
	// in another Lake) stalls the DistrictSource (Stalled, reason SharedSourceNotReady); one
	// that exists but has not landed a revision yet leaves it Ready False (same reason) and
	// Reconciling until it does. Either way the DistrictSource runs nothing.
	// +optional
	SharedSourceRef *LocalObjectReference `json:"sharedSourceRef,omitempty"`
	// inline holds the file itself, for small files.
	// +optional
	// +kubebuilder:validation:MaxLength=262144
	Inline *string `json:"inline,omitempty"`
	// columns maps each canonical field (such as annual_cost) to the source's column name
	// (such as "Annual Cost (USD)"). A field not in the map is read from the column of its
	// own name; the crdc format knows its columns and needs none.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Columns map[string]string `json:"columns,omitempty"`
	// delimiter of a csv file; a comma when empty.
	// +optional
	// +kubebuilder:validation:MaxLength=1
	Delimiter string `json:"delimiter,omitempty"`
	// sha256 is the file's expected checksum (hex); a run whose file differs fails. It is
	// the checksum of the file that is parsed: a ZIP archive's member, a gzip file's
	// decompressed content.
	// +optional
	// +kubebuilder:validation:Pattern=`^[a-f0-9]{64}$`
	SHA256 string `json:"sha256,omitempty"`
	// maxBytes bounds the file's size as parsed (a ZIP member or a gzip file counts its
	// decompressed bytes); a larger file fails the run. 2 GiB when unset.
	// +optional
	// +kubebuilder:validation:Minimum=1
	MaxBytes *int64 `json:"maxBytes,omitempty"`
	// timeout bounds the fetch, such as 10m. 30m when unset.
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
}

// DistrictSourceSpec is one district and the files that describe it.
// +kubebuilder:validation:XValidation:rule="self.sources.all(s, s.dataset == 'contracts' || has(s.schoolYear))",message="every staffing and incidents source needs a schoolYear"
type DistrictSourceSpec struct {
	// district identifies the school district.
	// +required
	District District `json:"district"`
	// lakeRef names the Lake (same namespace) the district's datasets are written to.
	// +required
	LakeRef LocalObjectReference `json:"lakeRef"`

	ScheduleSpec `json:",inline"`

	// sources are the files to ingest. Names are unique.
	// +required
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	Sources []Source `json:"sources"`

	// job adjusts the Jobs that run the ingest.
	// +optional
	Job *JobTemplate `json:"job,omitempty"`
}

// SourceStatus is what the last successful run did with one source.
type SourceStatus struct {
	// name of the source.
	Name string `json:"name"`
	// dataset the source fed.
	// +optional
	Dataset Dataset `json:"dataset,omitempty"`
	// bytes read from the source.
	// +optional
	Bytes int64 `json:"bytes,omitempty"`
	// sha256 of the bytes read from the source.
	// +optional
	SHA256 string `json:"sha256,omitempty"`
	// rows is the number of rows written to the dataset from this source.
	// +optional
	Rows int64 `json:"rows,omitempty"`
	// objectKey is the key of the published Parquet object the rows are in.
	// +optional
	ObjectKey string `json:"objectKey,omitempty"`
	// objectSHA256 is the checksum of the published Parquet object.
	// +optional
	ObjectSHA256 string `json:"objectSHA256,omitempty"`
}

// DistrictSourceStatus is the observed state of a DistrictSource.
type DistrictSourceStatus struct {
	WorkloadStatus `json:",inline"`

	// sources is what the last successful run did with each source.
	// +optional
	// +listType=map
	// +listMapKey=name
	Sources []SourceStatus `json:"sources,omitempty"`

	// sharedRevisions is, for each SharedSource with rerunDistricts enabled that the
	// district reads, the revision the last re-run or run-now Job started for it read: a
	// revision is re-run once, also across manager restarts.
	// +optional
	// +listType=map
	// +listMapKey=name
	SharedRevisions []SharedRevision `json:"sharedRevisions,omitempty"`
}

// SharedRevision is the revision of one SharedSource that a re-run (or run-now run) of the
// district read.
type SharedRevision struct {
	// name of the SharedSource.
	Name string `json:"name"`
	// revision of its artifact the run read.
	Revision string `json:"revision"`
	// job is the Job of the run.
	// +optional
	Job string `json:"job,omitempty"`
	// startTime is when the run was started.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName={ds,dsrc},categories=districtlake
// +kubebuilder:printcolumn:name="District",type=string,JSONPath=`.spec.district.name`
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.spec.district.state`
// +kubebuilder:printcolumn:name="Schedule",type=string,JSONPath=`.spec.schedule`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Last Success",type=date,JSONPath=`.status.lastSuccessfulTime`
// Reason is the Ready reason only while Ready is not True: Stalled and Reconciling are
// present only while True, so the one condition not True is then Ready.
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.status!="True")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="NCES ID",type=string,JSONPath=`.spec.district.ncesId`,priority=1
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1

// DistrictSource is one school district: where its staffing, incidents and police-contract
// files are, how their columns map to the canonical datasets, and when to ingest them.
type DistrictSource struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the district and its sources.
	// +required
	Spec DistrictSourceSpec `json:"spec"`
	// status is what the last runs did.
	// +optional
	Status DistrictSourceStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// DistrictSourceList is a list of DistrictSources.
type DistrictSourceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DistrictSource `json:"items"`
}

func init() {
	SchemeBuilder.Register(&DistrictSource{}, &DistrictSourceList{})
}
