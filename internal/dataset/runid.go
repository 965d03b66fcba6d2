package dataset

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"time"
)

// runIDPattern is what a run id may hold: it names the run manifest's object.
var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// NewRunID returns a time-sortable run id: the UTC time to the second and 4 random bytes,
// such as 20261126T130501Z-3fa9c21b. Ingest and compare runs both use it.
func NewRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// CheckRunID checks a run id given from outside (a --run-id flag): 1 to 128 letters,
// digits, '.', '_' and '-', so that it is safe in an object key.
func CheckRunID(id string) error {
	if !runIDPattern.MatchString(id) {
		return fmt.Errorf("run id %q must be 1 to 128 letters, digits, '.', '_' or '-'", id)
	}
	return nil
}
