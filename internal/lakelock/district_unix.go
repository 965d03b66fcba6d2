//go:build unix && !linux

package lakelock

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// rangeLocks is unused where District locks files.
type rangeLocks struct{}

// District waits for and takes the exclusive lock of one district (state and NCES id) in a
// lock file of its own (open file description locks do not exist here); release lets the
// next run of the district go.
func (l *Lake) District(ctx context.Context, state, ncesID string) (release func(), err error) {
	name := filepath.Join(l.root, Dir, fmt.Sprintf("district-%s-%s.lock", state, ncesID))
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("district lock: %w", err)
	}
	if err := lock(ctx, f, syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("waiting for another run of district %s %s: %w", state, ncesID, err)
	}
	return func() { _ = f.Close() }, nil
}
