// Package summary is the short JSON result a run's container writes to its termination
// message (at most 4 KiB), which the controllers read back from the Pod's status.
package summary

import (
	"encoding/json"
	"fmt"
	"github.com/districtlake/districtlake/internal/redact"
	"os"
)

// MaxBytes is the Kubernetes limit on a termination message.
const MaxBytes = 4096

// DefaultPath is where a container's termination message is read from.
const DefaultPath = "/dev/termination-log"

// Outcomes.
const (
	Succeeded = "Succeeded"
	Failed    = "Failed"
)

// Object is one object a run published.
type Object struct {
	Dataset string `json:"dataset"`
	Key     string `json:"key"`
	Rows    int64  `json:"rows"`
	SHA256  string `json:"sha256,omitempty"`
}

// Source is what a run read from one source.
type Source struct {
	Name    string `json:"name"`
	Dataset string `json:"dataset"`
	Bytes   int64  `json:"bytes"`
	SHA256  string `json:"sha256,omitempty"`
	// Rows is the number of rows of this source that reached the dataset.
	Rows int64 `json:"rows"`
	// ObjectKey is the object the rows were published in.
	ObjectKey string `json:"objectKey,omitempty"`
}

// Summary is one run's result.
type Summary struct {
	RunID   string `json:"runID"`
	Outcome string `json:"outcome"`
	// Message says what the run did, or why it failed (naming source, row and column).
	Message  string   `json:"message,omitempty"`
	Manifest string   `json:"manifest,omitempty"`
	Sources  []Source `json:"sources,omitempty"`
	Objects  []Object `json:"objects,omitempty"`
	// Districts is how many districts a comparison covered.
	Districts int32 `json:"districts,omitempty"`
	// Artifact is the revision a shared source's run landed, or kept when NotModified.
	Artifact *Artifact `json:"artifact,omitempty"`
	// NotModified says a shared source's origin answered that its file had not changed:
	// nothing was downloaded or landed.
	NotModified bool `json:"notModified,omitempty"`
}

// Artifact is one landed revision of a shared source.
type Artifact struct {
	Revision    string `json:"revision"`
	Digest      string `json:"digest"`
	Bytes       int64  `json:"bytes"`
	Rows        int64  `json:"rows"`
	Districts   int32  `json:"districts"`
	LandedAt    string `json:"landedAt,omitempty"`
	Prefix      string `json:"prefix"`
	ManifestKey string `json:"manifestKey"`
	// Layout is how the district objects are named (see land.LayoutDistrictFile); empty
	// in the manifest of a revision landed before layouts were recorded.
	Layout       string `json:"layout,omitempty"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
}

// Encode renders s as JSON of at most MaxBytes, shortening the message and then dropping
// per-source detail when needed.
func Encode(s Summary) ([]byte, error) {
	s.Message = redact.Text(s.Message)
	for {
		b, err := json.Marshal(s)
		if err != nil {
			return nil, fmt.Errorf("encoding summary: %w", err)
		}
		if len(b) <= MaxBytes {
			return b, nil
		}
		switch {
		case len(s.Message) > 512:
			s.Message = s.Message[:500] + " [cut]"
		case len(s.Sources) > 0:
			s.Sources = s.Sources[:len(s.Sources)-1]
		case len(s.Objects) > 0:
			s.Objects = s.Objects[:len(s.Objects)-1]
		case s.Message != "":
			s.Message = ""
		default:
			return b, nil // nothing left to shorten; the caller's fields alone are this long
		}
	}
}

// Decode parses a termination message.
func Decode(msg string) (Summary, error) {
	var s Summary
	if err := json.Unmarshal([]byte(msg), &s); err != nil {
		return s, fmt.Errorf("termination message is not a run summary: %w", err)
	}
	return s, nil
}

// Write writes s to path. DefaultPath is written only when it exists, as it does in a Pod
// (the kubelet provides it), so a run outside a cluster leaves /dev alone; any other path
// is created.
func Write(path string, s Summary) error {
	b, err := Encode(s)
	if err != nil {
		return err
	}
	flags := os.O_WRONLY | os.O_TRUNC
	if path != DefaultPath {
		flags |= os.O_CREATE
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if os.IsNotExist(err) && path == DefaultPath {
		return nil
	}
	if err != nil {
		return fmt.Errorf("writing summary to %s: %w", path, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("writing summary to %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing summary to %s: %w", path, err)
	}
	return nil
}
