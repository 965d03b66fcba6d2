package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
)

// maxIndex is the largest index a district reads: a state of 100,000 districts has an
// index of about 3 MiB.
const maxIndex = 64 << 20

// openLanded reads one district's rows of a shared source's landed revision from the lake
// it was landed in: its own range of its state's object (found in the object's index), or
// its own object in a revision of an earlier layout. Neither read grows with the national
// file.
func openLanded(ctx context.Context, s *Stream, src *plan.Landed, env lake.Env, open *OpenLake, indexes *IndexCache) error {
	s.location = fmt.Sprintf("shared source %s revision %s (%s)", src.SharedSource, src.Revision, src.Key)
	store, err := landedStore(ctx, src.Lake, env, open)
	if err != nil {
		return fmt.Errorf("source %s: %w", s.name, err)
	}
	if src.Index != "" {
		return openIndexed(ctx, s, src, store, indexes)
	}
	obj, err := store.Open(ctx, src.Key)
	if errors.Is(err, lake.ErrNotExist) {
		return fmt.Errorf("source %s: shared source %s has no rows of this district in revision %s (%s is missing from %s)",
			s.name, src.SharedSource, src.Revision, src.Key, store.URL())
	}
	if err != nil {
		return fmt.Errorf("source %s: opening %s: %w", s.name, src.Key, err)
	}
	s.r = obj
	s.closer = obj.Close
	s.size = obj.Size()
	return nil
}

// openIndexed reads district src.District's range of a state object, with the header
// from the object's index in front of it.
func openIndexed(ctx context.Context, s *Stream, src *plan.Landed, store lake.Store, indexes *IndexCache) error {
	index, err := indexes.read(ctx, store, src.Index)
	if errors.Is(err, lake.ErrNotExist) {
		return fmt.Errorf("source %s: shared source %s has no index %s in revision %s (%s): land the shared source again",
			s.name, src.SharedSource, src.Index, src.Revision, store.URL())
	}
	if err != nil {
		return fmt.Errorf("source %s: reading the index of shared source %s: %w", s.name, src.SharedSource, err)
	}
	header, e, ok, err := findInIndex(index, src.District)
	if err != nil {
		return fmt.Errorf("source %s: shared source %s: %s: %w", s.name, src.SharedSource, src.Index, err)
	}
	if !ok {
		return fmt.Errorf("source %s: shared source %s has no rows of district %s in revision %s (%s does not list it)",
			s.name, src.SharedSource, src.District, src.Revision, src.Index)
	}
	rows, err := store.OpenRange(ctx, src.Key, e.Offset, e.Length)
	if err != nil {
		return fmt.Errorf("source %s: reading district %s's rows of %s: %w", s.name, src.District, src.Key, err)
	}
	s.location = fmt.Sprintf("shared source %s revision %s (%s, bytes %d-%d)", src.SharedSource, src.Revision, src.Key, e.Offset, e.Offset+e.Length)
	s.r = io.MultiReader(bytes.NewReader(header), rows)
	s.closer = rows.Close
	s.size = int64(len(header)) + e.Length
	return nil
}

// readSmall reads a whole object of at most limit bytes.
func readSmall(ctx context.Context, store lake.Store, key string, limit int64) ([]byte, error) {
	obj, err := store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	if obj.Size() > limit {
		return nil, fmt.Errorf("%s has %d bytes, more than an index may (%d)", key, obj.Size(), limit)
	}
	b := make([]byte, obj.Size())
	if _, err := io.ReadFull(obj, b); err != nil {
		return nil, fmt.Errorf("reading %s: %w", key, err)
	}
	return b, nil
}

// landedStore is open's store when it is of the lake cfg names, or else a new store of cfg.
func landedStore(ctx context.Context, cfg lake.Config, env lake.Env, open *OpenLake) (lake.Store, error) {
	if open != nil && open.Store != nil && open.Config == cfg {
		return open.Store, nil
	}
	return lake.New(ctx, cfg, env)
}
