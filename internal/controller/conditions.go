package controller

import (
	"time"

	"github.com/districtlake/districtlake/internal/status"
)

// stalled returns an error that retrying cannot fix (see status.StalledError).
func stalled(reason, format string, args ...any) error {
	return status.Stalled(reason, format, args...)
}

// stalledRecheck returns a stalled error that is looked at again after recheck.
func stalledRecheck(recheck time.Duration, reason, format string, args ...any) error {
	return status.StalledRecheck(recheck, reason, format, args...)
}
