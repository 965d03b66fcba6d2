package lakelock

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"

	"golang.org/x/sys/unix"
)

// District waits for and takes the exclusive lock of one district (state and NCES id);
// release lets the next run of the district go.
//
// The lock is one byte of the lake's lock file, at an offset hashed from the district, held
// with an open file description lock (fcntl F_OFD_SETLK): two system calls, where a lock
// file per district cost creating, opening and closing one of 13,000 files. Other runs hold
// their own descriptions of the file, so they wait; within this run, districts whose offsets
// collide take turns in rangeLocks.
func (l *Lake) District(ctx context.Context, state, ncesID string) (release func(), err error) {
	off := districtOffset(state, ncesID)
	if err := l.ranges.acquire(ctx, off); err != nil {
		return nil, fmt.Errorf("waiting for another run of district %s %s: %w", state, ncesID, err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: off, Len: 1}
	err = retry(ctx, func() error { return unix.FcntlFlock(l.f.Fd(), unix.F_OFD_SETLK, &lk) },
		unix.EAGAIN, unix.EACCES, unix.EINTR)
	if err != nil {
		l.ranges.release(off)
		if errors.Is(err, context.Cause(ctx)) {
			return nil, fmt.Errorf("waiting for another run of district %s %s: %w", state, ncesID, err)
		}
		return nil, fmt.Errorf("district lock %s %s: %w", state, ncesID, err)
	}
	return func() {
		un := unix.Flock_t{Type: unix.F_UNLCK, Whence: 0, Start: off, Len: 1}
		_ = unix.FcntlFlock(l.f.Fd(), unix.F_OFD_SETLK, &un)
		l.ranges.release(off)
	}, nil
}

// districtOffset is where in the lock file a district's byte is.
func districtOffset(state, ncesID string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(state + "/" + ncesID))
	return int64(h.Sum64() >> 2) // non-negative, as an offset must be
}

// rangeLocks serialises this process's holders of one offset: open file description locks
// do not exclude each other within the description that holds them.
type rangeLocks struct {
	mu   sync.Mutex
	held map[int64]chan struct{}
}

func (r *rangeLocks) acquire(ctx context.Context, off int64) error {
	for {
		r.mu.Lock()
		if r.held == nil {
			r.held = map[int64]chan struct{}{}
		}
		wait, busy := r.held[off]
		if !busy {
			r.held[off] = make(chan struct{})
			r.mu.Unlock()
			return nil
		}
		r.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

func (r *rangeLocks) release(off int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	close(r.held[off])
	delete(r.held, off)
}
