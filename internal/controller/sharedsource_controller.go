package controller

// The SharedSource controller's permissions. districtsources read SharedSources to resolve
// their sharedSourceRefs, so get/list/watch covers both controllers.
// +kubebuilder:rbac:groups=districtlake.io,resources=sharedsources,verbs=get;list;watch
// +kubebuilder:rbac:groups=districtlake.io,resources=sharedsources/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=districtlake.io,resources=sharedsources/finalizers,verbs=update
