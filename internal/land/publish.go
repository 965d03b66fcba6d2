package land

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/summary"
)

// smallObject is the largest district object written in one Put from memory; a larger one
// (a district of thousands of schools, or a file of very wide rows) is streamed from the
// spool, at most largeUploads at a time, so that publishing holds at most
// publishers x smallObject bytes plus the streamed uploads' buffers.
const smallObject = 4 << 20

// largeUploads is how many objects larger than smallObject are streamed at once.
const largeUploads = 2

// publish writes every district's object under the revision's prefix, publishers at
// once, then the manifest. Readers learn a revision only from the manifest, so the
// district objects need no batch: until the manifest is written they are invisible, and a
// landing that fails before it leaves the manifest, and so the revision every district
// reads, as they were. The objects it did write stay under the new revision's prefix,
// unreferenced; the revision is the file's digest, so landing the same file again
// rewrites those same keys rather than adding more.
func publish(ctx context.Context, store lake.Store, p *plan.Land, sp *spool, art *summary.Artifact, publishers int, prog *progress) error {
	ids := make([]string, 0, len(sp.index))
	for id := range sp.index {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan string)
	large := make(chan struct{}, largeUploads)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
		cancel(err)
	}
	for range min(publishers, max(len(ids), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for id := range jobs {
				if ctx.Err() != nil {
					continue // another object failed: write no more
				}
				key := DistrictKey(p.Namespace, p.Name, art.Revision, art.Layout, id, p.Source.Format)
				var err error
				buf, err = putDistrict(ctx, store, sp, id, key, buf[:0], large)
				if err != nil {
					fail(err)
					continue
				}
				prog.published(len(ids), sp)
			}
		}()
	}
feed:
	for _, id := range ids {
		select {
		case jobs <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = context.Cause(ctx)
	}
	if first != nil {
		return fmt.Errorf("landing revision %s (wrote %d of %d district objects under %s, which nothing reads; the manifest still names the previous revision): %w",
			art.Revision, prog.done, len(ids), art.Prefix, first)
	}
	// The manifest names the district objects: they must be durable before it is.
	if err := store.Sync(ctx); err != nil {
		return fmt.Errorf("landing revision %s (the manifest still names the previous revision): %w", art.Revision, err)
	}
	m, err := json.MarshalIndent(art, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the manifest: %w", err)
	}
	if _, err := store.Put(ctx, art.ManifestKey, append(m, '\n')); err != nil {
		return fmt.Errorf("landing revision %s: writing the manifest (the %d district objects are written): %w", art.Revision, len(ids), err)
	}
	return nil
}

// putDistrict writes one district's object: from memory (reusing buf) when it is small,
// else streamed from the spool.
func putDistrict(ctx context.Context, store lake.Store, sp *spool, id, key string, buf []byte, large chan struct{}) ([]byte, error) {
	if sp.size(id) <= smallObject {
		buf, err := sp.appendObject(buf, id)
		if err != nil {
			return buf, err
		}
		if _, err := store.Put(ctx, key, buf); err != nil {
			return buf, err
		}
		return buf, nil
	}
	select {
	case large <- struct{}{}:
	case <-ctx.Done():
		return buf, context.Cause(ctx)
	}
	defer func() { <-large }()
	w, err := store.Create(ctx, key)
	if err != nil {
		return buf, err
	}
	if _, err := io.Copy(w, sp.object(id)); err != nil {
		w.Abort(err)
		return buf, fmt.Errorf("writing %s: %w", key, err)
	}
	if _, err := w.Commit(); err != nil {
		return buf, err
	}
	return buf, nil
}

// progress reports a landing's progress to the log and to Options.OnProgress, at most
// every `every` (and, while publishing, every ProgressDistricts districts).
type progress struct {
	log   logr.Logger
	fn    func(Progress)
	every time.Duration
	now   func() time.Time
	start time.Time

	// bytes counts the file's bytes read (written by countingReader).
	bytes int64

	mu   sync.Mutex
	last time.Time
	done int
	// checked counts rows since the clock was last read while splitting.
	checked int
}

// split is called after each row spooled.
func (p *progress) split(sp *spool) {
	if p.checked++; p.checked < 1024 {
		return
	}
	p.checked = 0
	now := p.now()
	if now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	pr := Progress{Phase: "split", Rows: sp.rows, Bytes: p.bytes, Districts: len(sp.index), Elapsed: now.Sub(p.start)}
	p.log.Info("Read shared file", "rows", pr.Rows, "bytes", pr.Bytes, "districts", pr.Districts, "seconds", pr.Elapsed.Seconds())
	if p.fn != nil {
		p.fn(pr)
	}
}

// published is called after each district object written.
func (p *progress) published(total int, sp *spool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	now := p.now()
	if p.done%ProgressDistricts != 0 && p.done != total && now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	pr := Progress{Phase: "publish", Rows: sp.rows, Bytes: p.bytes, Districts: total, Published: p.done, Elapsed: now.Sub(p.start)}
	p.log.Info("Wrote district objects", "written", pr.Published, "districts", total, "seconds", pr.Elapsed.Seconds())
	if p.fn != nil {
		p.fn(pr)
	}
}

// countingReader counts the bytes read through it into *n.
type countingReader struct {
	r io.Reader
	n *int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	*c.n += int64(n)
	return n, err
}
