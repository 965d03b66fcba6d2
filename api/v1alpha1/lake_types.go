package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LakeSpec says where datasets are written: one bucket (and prefix) of an S3-compatible
// object store.
type LakeSpec struct {
	// endpoint is the object store's host:port, without a scheme, user information, spaces
	// or control characters, such as minio.lake:9000.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="!self.contains('://') && !self.contains('/')",message="endpoint is host:port, without a scheme or a path"
	// +kubebuilder:validation:XValidation:rule="!self.contains('@')",message="endpoint is host:port, without user information"
	// +kubebuilder:validation:Pattern=`^[^\x00-\x20\x7F-\x9F]+$`
	Endpoint string `json:"endpoint"`
	// bucket holds the lake.
	// +required
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`
	Bucket string `json:"bucket"`
	// prefix is prepended to every object key (no leading or trailing slash, no control
	// characters), such as districtlake/v1.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:Pattern=`^([^/\x00-\x1F\x7F-\x9F]+(/[^/\x00-\x1F\x7F-\x9F]+)*)?$`
	Prefix string `json:"prefix,omitempty"`
	// region of the bucket, without spaces or control characters; us-east-1 when empty.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[^\x00-\x20\x7F-\x9F]*$`
	Region string `json:"region,omitempty"`
	// secure selects TLS (https) to the endpoint.
	// +optional
	// +kubebuilder:default=true
	Secure bool `json:"secure"`
	// pathStyle selects path-style requests (endpoint/bucket/key), which MinIO expects;
	// virtual-hosted style otherwise.
	// +optional
	// +kubebuilder:default=true
	PathStyle bool `json:"pathStyle"`
	// credentialsSecretRef names a Secret in the same namespace with the keys accessKeyID and
	// secretAccessKey. Jobs receive them as environment variables only.
	// +required
	CredentialsSecretRef LocalObjectReference `json:"credentialsSecretRef"`
}

// Keys of a Lake's credentials Secret (spec.credentialsSecretRef).
const (
	LakeSecretKeyAccessKeyID     = "accessKeyID"
	LakeSecretKeySecretAccessKey = "secretAccessKey"
)

// LakeStatus is what the controller found when it last checked the bucket.
type LakeStatus struct {
	ConditionedStatus `json:",inline"`

	// lastCheckedTime is when the bucket was last reached.
	// +optional
	LastCheckedTime *metav1.Time `json:"lastCheckedTime,omitempty"`
	// url is the lake's address as DuckDB reads it, s3://bucket/prefix.
	// +optional
	URL string `json:"url,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=districtlake
// +kubebuilder:printcolumn:name="Endpoint",type=string,JSONPath=`.spec.endpoint`
// +kubebuilder:printcolumn:name="Bucket",type=string,JSONPath=`.spec.bucket`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// Lake is one bucket of an S3-compatible object store that districtlake writes datasets to.
type Lake struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says where the lake is.
	// +required
	Spec LakeSpec `json:"spec"`
	// status says whether the bucket was reachable.
	// +optional
	Status LakeStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// LakeList is a list of Lakes.
type LakeList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Lake `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Lake{}, &LakeList{})
}
