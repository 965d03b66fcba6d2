package ingest

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"os"
	"slices"
)

// keySet finds repeated row keys without keeping the keys: it keeps a 128-bit fingerprint
// of each key (two independent maphash hashes) and the row it was on. Up to max
// fingerprints are held in memory, where a repeat is found at once; past that they are
// sorted and written to a temporary file as a run, and finish merges the runs to find a
// repeat across them. Memory is bounded by max, whatever the number of rows: 32 bytes a
// fingerprint and an index of 8 to 16 bytes a fingerprint (no map: a Go map of a million
// entries takes about three times as much, twice that while it grows). The temporary
// file takes 32 bytes a row. Two different keys are taken for the same key only when
// both 64-bit hashes collide, about n²/2¹²⁹ for n rows: never in practice.
type keySet struct {
	seeds [2]maphash.Seed
	max   int
	// entries are the fingerprints in memory, in row order until a spill sorts them.
	entries []keyEntry
	// index is an open-addressing table over entries: slot i holds an entry's index + 1
	// (0: empty), found by linear probing from the fingerprint's first hash. Its length
	// is a power of two at least twice len(entries).
	index   []uint32
	tempDir string
	file    *os.File
	runs    []keyRun
}

type fingerprint [2]uint64

// keyEntry is one fingerprint and its row, as written to a run.
type keyEntry struct {
	fp fingerprint
	at position
}

// keyEntrySize is a keyEntry's bytes in a run.
const keyEntrySize = 32

// keyRun is a sorted run of entries in the file.
type keyRun struct{ off, n int64 }

// minKeyIndex is the index's first length.
const minKeyIndex = 1 << 10

func newKeySet(max int, tempDir string) *keySet {
	if max <= 0 {
		max = DefaultLimits().KeysInMemory
	}
	max = min(max, math.MaxUint32/4)
	return &keySet{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, max: max, tempDir: tempDir}
}

// add records key at row at; it returns the earlier row of the same key when that row is
// still in memory (dup true).
func (k *keySet) add(key []byte, at position) (prev position, dup bool, err error) {
	fp := fingerprint{maphash.Bytes(k.seeds[0], key), maphash.Bytes(k.seeds[1], key)}
	if 2*(len(k.entries)+1) > len(k.index) {
		k.growIndex()
	}
	mask := uint64(len(k.index) - 1)
	i := fp[0] & mask
	for ; k.index[i] != 0; i = (i + 1) & mask {
		if e := k.entries[k.index[i]-1]; e.fp == fp {
			return e.at, true, nil
		}
	}
	if len(k.entries) == cap(k.entries) {
		grown := make([]keyEntry, len(k.entries), min(max(2*cap(k.entries), minKeyIndex), k.max))
		copy(grown, k.entries)
		k.entries = grown
	}
	k.entries = append(k.entries, keyEntry{fp, at})
	k.index[i] = uint32(len(k.entries))
	if len(k.entries) >= k.max {
		return position{}, false, k.spill()
	}
	return position{}, false, nil
}

// growIndex doubles the index (or makes its first one) and puts the entries back in it.
func (k *keySet) growIndex() {
	n := max(2*len(k.index), minKeyIndex)
	for n < 2*(len(k.entries)+1) {
		n *= 2
	}
	k.index = make([]uint32, n)
	mask := uint64(n - 1)
	for j, e := range k.entries {
		i := e.fp[0] & mask
		for k.index[i] != 0 {
			i = (i + 1) & mask
		}
		k.index[i] = uint32(j + 1)
	}
}

// spill writes the fingerprints in memory to the file as one sorted run, and empties
// memory (keeping its room for the next fingerprints).
func (k *keySet) spill() error {
	if len(k.entries) == 0 {
		return nil
	}
	if k.file == nil {
		f, err := os.CreateTemp(k.tempDir, "districtlake-keys-*")
		if err != nil {
			return fmt.Errorf("spilling row keys: %w", err)
		}
		k.file = f
	}
	slices.SortFunc(k.entries, compareEntries)
	off, err := k.file.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("spilling row keys: %w", err)
	}
	w := bufio.NewWriterSize(k.file, 256<<10)
	var b [keyEntrySize]byte
	for _, e := range k.entries {
		putEntry(b[:], e)
		if _, err := w.Write(b[:]); err != nil {
			return fmt.Errorf("spilling row keys: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("spilling row keys: %w", err)
	}
	k.runs = append(k.runs, keyRun{off: off, n: int64(len(k.entries))})
	k.entries = k.entries[:0]
	clear(k.index)
	return nil
}

func compareEntries(a, b keyEntry) int {
	if c := cmpU64(a.fp[0], b.fp[0]); c != 0 {
		return c
	}
	if c := cmpU64(a.fp[1], b.fp[1]); c != 0 {
		return c
	}
	return a.at.row - b.at.row
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func putEntry(b []byte, e keyEntry) {
	binary.LittleEndian.PutUint64(b[0:], e.fp[0])
	binary.LittleEndian.PutUint64(b[8:], e.fp[1])
	binary.LittleEndian.PutUint64(b[16:], uint64(e.at.row))
	binary.LittleEndian.PutUint64(b[24:], uint64(e.at.line))
}

func getEntry(b []byte) keyEntry {
	return keyEntry{
		fp: fingerprint{binary.LittleEndian.Uint64(b[0:]), binary.LittleEndian.Uint64(b[8:])},
		at: position{row: int(binary.LittleEndian.Uint64(b[16:])), line: int(binary.LittleEndian.Uint64(b[24:]))},
	}
}

// finish merges the spilled runs (when there are any) and returns the first repeated key
// it finds: the row where it repeats (later) and the row it is first on (first).
func (k *keySet) finish() (later, first position, dup bool, err error) {
	if k.file == nil {
		return position{}, position{}, false, nil
	}
	if err := k.spill(); err != nil {
		return position{}, position{}, false, err
	}
	h := &runHeap{}
	for _, r := range k.runs {
		rr := &runReader{r: bufio.NewReaderSize(io.NewSectionReader(k.file, r.off, r.n*keyEntrySize), 32<<10)}
		ok, err := rr.next()
		if err != nil {
			return position{}, position{}, false, err
		}
		if ok {
			h.items = append(h.items, rr)
		}
	}
	heap.Init(h)
	var prev keyEntry
	have := false
	found := false
	for h.Len() > 0 {
		rr := h.items[0]
		e := rr.cur
		if have && e.fp == prev.fp {
			// Entries of one fingerprint come in row order: prev is its first row.
			if !found || e.at.row < later.row {
				later, first, found = e.at, prev.at, true
			}
		} else {
			prev, have = e, true
		}
		ok, err := rr.next()
		if err != nil {
			return position{}, position{}, false, err
		}
		if ok {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	return later, first, found, nil
}

// close removes the temporary file.
func (k *keySet) close() {
	if k.file != nil {
		k.file.Close()
		os.Remove(k.file.Name())
		k.file = nil
	}
	k.entries, k.index = nil, nil
}

type runReader struct {
	r   *bufio.Reader
	cur keyEntry
	b   [keyEntrySize]byte
}

func (r *runReader) next() (bool, error) {
	if _, err := io.ReadFull(r.r, r.b[:]); err == io.EOF {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("reading spilled row keys: %w", err)
	}
	r.cur = getEntry(r.b[:])
	return true, nil
}

type runHeap struct{ items []*runReader }

func (h *runHeap) Len() int           { return len(h.items) }
func (h *runHeap) Less(i, j int) bool { return compareEntries(h.items[i].cur, h.items[j].cur) < 0 }
func (h *runHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *runHeap) Push(x any)         { h.items = append(h.items, x.(*runReader)) }
func (h *runHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}
