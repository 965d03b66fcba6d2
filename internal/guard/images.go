package guard

import (
	"fmt"
	"strings"
)

// JobImages is the cluster admin's allow-list of the images a resource's spec.job.image may
// name. Each entry is an exact image reference ("registry.example/districtlake:1.4") or a
// prefix ending in '*' ("registry.example/districtlake:*", "registry.example/*"); a lone
// "*" allows every image. The empty list allows none: every Job then runs the manager's
// --job-image.
type JobImages []string

// ParseJobImages reads a comma-separated allow-list (spaces around entries are ignored, empty
// entries skipped). A '*' anywhere but at the end of an entry is refused, since it would
// read as a pattern that is not one.
func ParseJobImages(s string) (JobImages, error) {
	var l JobImages
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if i := strings.IndexByte(e, '*'); i >= 0 && i != len(e)-1 {
			return nil, fmt.Errorf("allowed job image %q: '*' may only end an entry (a prefix)", e)
		}
		l = append(l, e)
	}
	return l, nil
}

// Allows reports whether image is in the list: equal to an entry, or starting with an
// entry's text before its trailing '*'.
func (l JobImages) Allows(image string) bool {
	for _, e := range l {
		if prefix, ok := strings.CutSuffix(e, "*"); ok {
			if strings.HasPrefix(image, prefix) {
				return true
			}
		} else if image == e {
			return true
		}
	}
	return false
}

// String is the list as the flag takes it.
func (l JobImages) String() string { return strings.Join(l, ",") }

// JobImage says whether a resource may run its Jobs in image (its spec.job.image; empty
// means the manager's own image, always allowed).
func JobImage(image string, allowed JobImages) error {
	if image == "" || allowed.Allows(image) {
		return nil
	}
	if len(allowed) == 0 {
		return fmt.Errorf("image %q is not allowed: the cluster admin allows no spec.job.image (the manager's --allowed-job-images is empty), remove it to use the manager's image", image)
	}
	return fmt.Errorf("image %q is not allowed: spec.job.image must match one of the manager's --allowed-job-images (%s)", image, allowed)
}
