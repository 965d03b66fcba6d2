package v1alpha1

// Reasons of a Stalled DistrictSource (or StateComparison) that the isolation rules refuse.
const (
	// ReasonSecretNotAllowed: a source header names a Secret that is not labelled
	// districtlake.io/source-credential: "true", or a Lake's credentials Secret.
	ReasonSecretNotAllowed = "SecretNotAllowed"
	// ReasonDuplicateDistrict: an older DistrictSource already writes the same district
	// (state and NCES id) to the same Lake.
	ReasonDuplicateDistrict = "DuplicateDistrict"
	// ReasonImageNotAllowed: spec.job.image is not in the manager's --allowed-job-images
	// (also a Stalled StateComparison's reason). No CronJob runs until it is removed or
	// allowed.
	ReasonImageNotAllowed = "ImageNotAllowed"
)
