package local

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/ingest"
	"github.com/districtlake/districtlake/internal/lake"
)

// recordsPerFile is how many districts' manifests one _runs/<id>.ndjson file holds.
const recordsPerFile = 1000

// recordsBuffer is how many bytes of lines are kept before they are written: a line is a
// few kilobytes, which a folder lake would otherwise write with a system call each.
const recordsBuffer = 256 << 10

// runRecords gathers the manifests of a run's districts into _runs/<id>.ndjson files: one
// line per district, the manifest a cluster Job writes to _runs/<run-id>.json as compact
// JSON, and a new file every recordsPerFile districts. A run of 13,000 districts writes 13
// files rather than 13,000 (on a folder lake those were a third of the run's files and a
// fifth of its time). A file is committed when full and when the run ends, whatever its
// outcome, so a run stopped by Ctrl-C still records the districts it published; a process
// killed outright loses the records of the file it was writing, never a district's data,
// whose rows name their run.
type runRecords struct {
	store   lake.Store
	perFile int

	mu  sync.Mutex
	w   lake.Writer
	key string
	n   int
	// buf holds the lines not yet written to w.
	buf []byte
}

func newRunRecords(store lake.Store) *runRecords {
	return &runRecords{store: store, perFile: recordsPerFile}
}

// Add appends m to the current file, starting one when there is none.
func (r *runRecords) Add(ctx context.Context, m *ingest.Manifest) (string, error) {
	line, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encoding the run manifest: %w", err)
	}
	line = append(line, '\n')
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w == nil {
		r.key = dataset.RunRecordsKey(dataset.NewRunID(time.Now()))
		// The file outlives a cancelled run: it is committed when the run ends.
		if r.w, err = r.store.Create(context.WithoutCancel(ctx), r.key); err != nil {
			return "", fmt.Errorf("writing %s: %w", r.key, err)
		}
	}
	key := r.key
	r.buf = append(r.buf, line...)
	if len(r.buf) >= recordsBuffer {
		if err := r.flush(); err != nil {
			return "", err
		}
	}
	if r.n++; r.n == r.perFile {
		return key, r.commit()
	}
	return key, nil
}

// flush writes the buffered lines; after an error the file is abandoned, publishing
// nothing, and the next Add starts another.
func (r *runRecords) flush() error {
	_, err := r.w.Write(r.buf)
	r.buf = r.buf[:0]
	if err != nil {
		r.w.Abort(err)
		r.w, r.n = nil, 0
		return fmt.Errorf("writing %s: %w", r.key, err)
	}
	return nil
}

// Close commits the current file, if any.
func (r *runRecords) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w == nil {
		return nil
	}
	return r.commit()
}

func (r *runRecords) commit() error {
	if err := r.flush(); err != nil {
		return err
	}
	w := r.w
	r.w, r.n = nil, 0
	if _, err := w.Commit(); err != nil {
		return fmt.Errorf("writing %s: %w", r.key, err)
	}
	return nil
}
