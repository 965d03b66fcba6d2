//go:build unix

// Package lakelock keeps local runs that share a file lake (a folder) from mixing: each run
// holds a shared lock on the lake for its duration and an exclusive lock per district while
// it ingests that district, so two runs of one district take turns and the district's files
// all come from one run. A run that finds no other run on the lake first sweeps the
// temporary files that killed runs left behind. The lake's lock is a flock(2) lock on
// <lake>/.locks/lake.lock; a district's is a byte of that file (Linux) or a file of its own
// (see District); the kernel releases them all when a process dies.
package lakelock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// poll is how often a lock held by another run is tried again.
const poll = 50 * time.Millisecond

// Dir is the folder of a lake's lock files (hidden from the datasets' globs).
const Dir = ".locks" // lake.LockDir, which List skips

// Lake is a run's hold on a file lake.
type Lake struct {
	root string
	f    *os.File
	// ranges are the district locks this process holds on f (see District).
	ranges rangeLocks
	// Swept is how many left-over temporary files were removed when the run started.
	Swept int
}

// Open takes a shared lock on the lake at root for a run. When no other run holds the lake,
// it first removes every file whose name starts with tempPrefix (left by a killed run).
func Open(ctx context.Context, root, tempPrefix string) (*Lake, error) {
	dir := filepath.Join(root, Dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("lake locks: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "lake.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lake locks: %w", err)
	}
	l := &Lake{root: root, f: f}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
		// Alone on the lake: nothing is being written, so every temporary file is a leftover.
		l.Swept, err = sweep(root, tempPrefix)
		if err != nil {
			_ = f.Close()
			return nil, err
		}
	}
	// Converts an exclusive lock to a shared one, or waits for a shared one.
	if err := lock(ctx, f, syscall.LOCK_SH); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("locking the lake %s: %w", root, err)
	}
	return l, nil
}

// Close releases the lake.
func (l *Lake) Close() error { return l.f.Close() }

// lock takes how (LOCK_SH or LOCK_EX) on f, trying again until ctx ends.
func lock(ctx context.Context, f *os.File, how int) error {
	return retry(ctx, func() error { return syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB) },
		syscall.EWOULDBLOCK, syscall.EINTR)
}

// retry calls try, a non-blocking attempt at a lock, every poll while it fails with one of
// busy (another holder), until it succeeds, fails otherwise, or ctx ends (context.Cause).
func retry(ctx context.Context, try func() error, busy ...error) error {
	for {
		err := try()
		if err == nil || !slices.ContainsFunc(busy, func(b error) bool { return errors.Is(err, b) }) {
			return err
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(poll):
		}
	}
}

// sweep removes the regular files under root whose names start with prefix.
func sweep(root, prefix string) (int, error) {
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() && strings.HasPrefix(d.Name(), prefix) {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("sweeping left-over temporary files in %s: %w", root, err)
	}
	return n, nil
}
