package land

import (
	"bytes"
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
	"github.com/districtlake/districtlake/internal/source"
	"github.com/districtlake/districtlake/internal/summary"
)

// smallObject is the largest state object written in one Put from memory; a larger one
// (a state of a wide national file, such as the CRDC's Enrollment file for California) is
// streamed, at most largeUploads at a time, so that publishing holds at most publishers x
// smallObject bytes plus the streamed uploads' buffers.
const smallObject = 4 << 20

// largeUploads is how many objects larger than smallObject are streamed at once.
const largeUploads = 2

// state is one state's districts, sorted by LEAID, and the size of its object.
type state struct {
	fips  string
	ids   []string
	bytes int64
}

// states groups the spool's districts by state (the LEAID's first two digits), in LEAID
// order.
func states(sp *spool) []state {
	ids := make([]string, 0, len(sp.index))
	for id := range sp.index {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []state
	for _, id := range ids {
		fips := stateOf(id)
		if len(out) == 0 || out[len(out)-1].fips != fips {
			out = append(out, state{fips: fips, bytes: int64(len(sp.header))})
		}
		st := &out[len(out)-1]
		st.ids = append(st.ids, id)
		st.bytes += sp.index[id].bytes
	}
	return out
}

// publish writes every state's object and its index under the revision's prefix,
// publishers at once, then the manifest. Readers learn a revision only from the manifest,
// so the state objects need no batch: until the manifest is written they are invisible,
// and a landing that fails before it leaves the manifest, and so the revision every
// district reads, as they were. The objects it did write stay under the new revision's
// prefix, unreferenced; the revision is the file's digest, so landing the same file again
// rewrites those same keys rather than adding more.
func publish(ctx context.Context, store lake.Store, p *plan.Land, sp *spool, art *summary.Artifact, publishers int, prog *progress) error {
	all := states(sp)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan *state)
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
	prefix := RevisionPrefix(p.Namespace, p.Name, art.Revision)
	for range min(publishers, max(len(all), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for st := range jobs {
				if ctx.Err() != nil {
					continue // another object failed: write no more
				}
				key, index := stateKeys(prefix, st.fips, p.Source.Format)
				var err error
				buf, err = putState(ctx, store, sp, st, key, index, buf[:0], large)
				if err != nil {
					fail(err)
					continue
				}
				prog.published(len(st.ids), sp)
			}
		}()
	}
feed:
	for i := range all {
		select {
		case jobs <- &all[i]:
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
		return fmt.Errorf("landing revision %s (wrote %d of %d districts' rows under %s, which nothing reads; the manifest still names the previous revision): %w",
			art.Revision, prog.done, len(sp.index), art.Prefix, first)
	}
	// The manifest names the state objects: they must be durable before it is.
	if err := store.Sync(ctx); err != nil {
		return fmt.Errorf("landing revision %s (the manifest still names the previous revision): %w", art.Revision, err)
	}
	m, err := json.MarshalIndent(art, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the manifest: %w", err)
	}
	if _, err := store.Put(ctx, art.ManifestKey, append(m, '\n')); err != nil {
		return fmt.Errorf("landing revision %s: writing the manifest (the %d states' objects are written): %w", art.Revision, len(all), err)
	}
	return nil
}

// putState writes one state's object, from memory (reusing buf) when it is small, else
// streamed from the spool; then its index, which is written after the object it indexes.
func putState(ctx context.Context, store lake.Store, sp *spool, st *state, key, index string, buf []byte, large chan struct{}) ([]byte, error) {
	entries := make([]source.IndexEntry, len(st.ids))
	off := int64(len(sp.header))
	for i, id := range st.ids {
		n := sp.index[id].bytes
		entries[i] = source.IndexEntry{LEAID: id, Offset: off, Length: n}
		off += n
	}
	buf, err := putObject(ctx, store, sp, st, key, buf, large)
	if err != nil {
		return buf, err
	}
	if _, err := store.Put(ctx, index, source.EncodeIndex(sp.header, entries)); err != nil {
		return buf, err
	}
	return buf, nil
}

// putObject writes a state's object: the header, then each district's rows in LEAID order.
func putObject(ctx context.Context, store lake.Store, sp *spool, st *state, key string, buf []byte, large chan struct{}) ([]byte, error) {
	if st.bytes <= smallObject {
		buf = append(slices.Grow(buf, int(st.bytes)), sp.header...)
		buf, err := sp.appendRows(buf, st.ids)
		if err != nil {
			return buf, err
		}
		_, err = store.Put(ctx, key, buf)
		return buf, err
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
	rs := []io.Reader{bytes.NewReader(sp.header)}
	for _, id := range st.ids {
		rs = append(rs, sp.districtRows(id))
	}
	if _, err := io.Copy(w, io.MultiReader(rs...)); err != nil {
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

// published is called after each state's object written, with its number of districts.
func (p *progress) published(districts int, sp *spool) {
	total := len(sp.index)
	p.mu.Lock()
	defer p.mu.Unlock()
	before := p.done
	p.done += districts
	now := p.now()
	if p.done/ProgressDistricts == before/ProgressDistricts && p.done != total && now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	pr := Progress{Phase: "publish", Rows: sp.rows, Bytes: p.bytes, Districts: total, Published: p.done, Elapsed: now.Sub(p.start)}
	p.log.Info("Wrote districts' rows", "written", pr.Published, "districts", total, "seconds", pr.Elapsed.Seconds())
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
