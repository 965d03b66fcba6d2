package ingest

import (
	"fmt"
	"testing"
)

// TestKeySet checks the duplicate-key check over its index growth and spilled runs: each
// repeat is found with the row it first appeared on, and distinct keys never collide.
func TestKeySet(t *testing.T) {
	key := func(i int) []byte { return fmt.Appendf(nil, "agency %d|2023-07-01", i) }
	cases := []struct {
		name            string
		max, rows       int
		repeat, of      int // row repeat holds the key of row of (0: no repeat)
		wantAtOnce      bool
		wantLater, want int
	}{
		{name: "distinct keys in memory", max: 1 << 20, rows: 50_000},
		{name: "distinct keys over many runs", max: 3000, rows: 50_000},
		{name: "repeat in memory after the index grew", max: 1 << 20, rows: 20_000, repeat: 15_000, of: 7, wantAtOnce: true},
		{name: "repeat in the same run", max: 3000, rows: 20_000, repeat: 8_500, of: 6_100, wantAtOnce: true},
		{name: "repeat across runs", max: 3000, rows: 20_000, repeat: 19_000, of: 12, wantLater: 19_000, want: 12},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := newKeySet(c.max, t.TempDir())
			defer k.close()
			for row := 1; row <= c.rows; row++ {
				kr := row
				if row == c.repeat {
					kr = c.of
				}
				prev, dup, err := k.add(key(kr), position{row: row, line: row + 1})
				if err != nil {
					t.Fatal(err)
				}
				if dup {
					if !c.wantAtOnce || row != c.repeat || prev.row != c.of || prev.line != c.of+1 {
						t.Fatalf("row %d: a repeat of row %d, want none", row, prev.row)
					}
					return
				}
			}
			if c.wantAtOnce {
				t.Fatalf("the repeat on row %d was not found at once", c.repeat)
			}
			later, first, dup, err := k.finish()
			if err != nil {
				t.Fatal(err)
			}
			if dup != (c.want != 0) || later.row != c.wantLater || first.row != c.want {
				t.Fatalf("finish: repeat %v on row %d of row %d, want %v on row %d of row %d", dup, later.row, first.row, c.want != 0, c.wantLater, c.want)
			}
			if len(k.entries) > c.max || cap(k.entries) > c.max {
				t.Fatalf("%d fingerprints in memory (room for %d), want at most %d", len(k.entries), cap(k.entries), c.max)
			}
		})
	}
}
