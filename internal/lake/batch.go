package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Batch writes several objects of one run and publishes them together: nothing is
// published before Commit, and Abort discards every object not yet published, leaving the
// objects that were at their keys unchanged. A Batch is used by one goroutine.
//
// The lake has no multi-object transaction: should Commit fail part of the way, the objects
// before the failing one stay published and its error says how many.
type Batch struct {
	store   Store
	objects []*batchObject
	ended   bool
}

// batchObject is a streamed object (w) or a small one given whole (data).
type batchObject struct {
	key  string
	w    Writer
	data []byte
}

// NewBatch starts a batch of objects in store.
func NewBatch(store Store) *Batch { return &Batch{store: store} }

// Create starts streaming an object of the batch. The returned writer only writes: the
// batch commits or aborts it. Once Create succeeds the object belongs to the batch, even
// if writing it fails later.
func (b *Batch) Create(ctx context.Context, key string) (io.Writer, error) {
	if b.ended {
		return nil, fmt.Errorf("creating %s: the batch was already committed or aborted", key)
	}
	w, err := b.store.Create(ctx, key)
	if err != nil {
		return nil, err
	}
	b.objects = append(b.objects, &batchObject{key: key, w: w})
	return &writeOnly{w: w}, nil
}

// Put adds a small object (a report, a manifest) that Commit writes in one step.
func (b *Batch) Put(key string, data []byte) error {
	if b.ended {
		return fmt.Errorf("writing %s: the batch was already committed or aborted", key)
	}
	if _, err := cleanKey(key); err != nil {
		return err
	}
	b.objects = append(b.objects, &batchObject{key: key, data: data})
	return nil
}

// Len is the number of objects in the batch.
func (b *Batch) Len() int { return len(b.objects) }

// Commit publishes every object in the order they were added and describes them in that
// order. On the first error it aborts the objects not yet published and returns the error
// (saying how many were published before it). Commit or Abort ends the batch.
func (b *Batch) Commit(ctx context.Context) ([]ObjectInfo, error) {
	if b.ended {
		return nil, errors.New("committing a batch that was already committed or aborted")
	}
	b.ended = true
	infos := make([]ObjectInfo, 0, len(b.objects))
	for i, o := range b.objects {
		info, err := o.commit(ctx, b.store)
		if err != nil {
			for _, rest := range b.objects[i+1:] {
				rest.abort(err)
			}
			if i > 0 {
				return infos, fmt.Errorf("publishing %s (after publishing %d of %d objects): %w", o.key, i, len(b.objects), err)
			}
			return infos, fmt.Errorf("publishing %s: %w", o.key, err)
		}
		infos = append(infos, info)
	}
	return infos, nil
}

// Abort discards every object of the batch, giving reason, and publishes nothing. After
// Commit, or twice, it does nothing: a deferred Abort is safe.
func (b *Batch) Abort(reason error) {
	if b.ended {
		return
	}
	b.ended = true
	for _, o := range b.objects {
		o.abort(reason)
	}
}

func (o *batchObject) commit(ctx context.Context, store Store) (ObjectInfo, error) {
	if o.w != nil {
		return o.w.Commit()
	}
	if err := ctx.Err(); err != nil {
		return ObjectInfo{}, err
	}
	return store.Put(ctx, o.key, o.data)
}

func (o *batchObject) abort(reason error) {
	if o.w != nil {
		o.w.Abort(reason)
	}
}

// writeOnly hides a Writer's Commit and Abort from the batch's callers, and keeps the
// first error a Write returned (see WriteError).
type writeOnly struct {
	w     Writer
	mu    sync.Mutex
	first error
}

func (w *writeOnly) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		w.mu.Lock()
		if w.first == nil {
			w.first = err
		}
		w.mu.Unlock()
	}
	return n, err
}

// WriteError returns the first error a Write to w returned, when w is a Writer of a
// Batch (nil otherwise). An encoder writing to w (a Parquet writer) wraps or replaces
// that error with its own words ("failed to write magic number"); this is the lake's own
// error, which names the object, the lake and what went wrong (a refused connection,
// denied access), to report instead.
func WriteError(w io.Writer) error {
	if wo, ok := w.(*writeOnly); ok {
		wo.mu.Lock()
		defer wo.mu.Unlock()
		return wo.first
	}
	return nil
}

// WriteCause returns the first error a Write to w (a Writer of a Batch) returned, and
// err when there was none: what to report when an encoder writing to w fails.
func WriteCause(w io.Writer, err error) error {
	if werr := WriteError(w); werr != nil {
		return werr
	}
	return err
}
