package lakelock

import (
	"context"
	"testing"
	"time"
)

// Two districts of one run whose bytes collide take turns: open file description locks
// would let them both in.
func TestDistrictsOfOneRunOnOneOffsetTakeTurns(t *testing.T) {
	var r rangeLocks
	ctx := context.Background()
	if err := r.acquire(ctx, 42); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := r.acquire(short, 42); err == nil {
		t.Fatal("a second holder of offset 42 got in while the first held it")
	}
	if err := r.acquire(ctx, 43); err != nil {
		t.Fatalf("another offset waited: %v", err)
	}
	got := make(chan error, 1)
	go func() { got <- r.acquire(ctx, 42) }()
	r.release(42)
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter did not get offset 42 after its release")
	}
}
