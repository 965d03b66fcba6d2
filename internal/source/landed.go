package source

import (
	"context"
	"errors"
	"fmt"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
)

// openLanded reads one district's object of a shared source's landed revision from the
// lake it was landed in: one object of the district's own rows, so the read does not grow
// with the national file.
func openLanded(ctx context.Context, s *Stream, src *plan.Landed, env lake.Env, open *OpenLake) error {
	s.location = fmt.Sprintf("shared source %s revision %s (%s)", src.SharedSource, src.Revision, src.Key)
	store, err := landedStore(ctx, src.Lake, env, open)
	if err != nil {
		return fmt.Errorf("source %s: %w", s.name, err)
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

// landedStore is open's store when it is of the lake cfg names, or else a new store of cfg.
func landedStore(ctx context.Context, cfg lake.Config, env lake.Env, open *OpenLake) (lake.Store, error) {
	if open != nil && open.Store != nil && open.Config == cfg {
		return open.Store, nil
	}
	return lake.New(ctx, cfg, env)
}
