package source

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/districtlake/districtlake/internal/lake"
)

// The index of a state object of a landed revision (land.LayoutStateFile) says where each
// district's rows are in the object, so that a district reads its rows with one ranged
// read whatever the size of its state or of the national file. It is text:
//
//	districtlake-index 1 <length of the header>
//	<the header the object starts with, verbatim (csv; empty for ndjson)>
//	<LEAID> <offset> <length>     one line per district, sorted by LEAID
//
// A reader finds its district's line with one search of the bytes, without parsing the
// others, and reads the header from the index rather than with a second ranged read.
const indexMagic = "districtlake-index 1 "

// IndexEntry is where one district's rows are in a state object.
type IndexEntry struct {
	LEAID  string
	Offset int64
	Length int64
}

// EncodeIndex is the index of an object that starts with header and holds each entry's
// district's rows at its range; entries are sorted by LEAID.
func EncodeIndex(header []byte, entries []IndexEntry) []byte {
	b := make([]byte, 0, len(indexMagic)+len(header)+len(entries)*32+16)
	b = append(b, indexMagic...)
	b = strconv.AppendInt(b, int64(len(header)), 10)
	b = append(b, '\n')
	b = append(b, header...)
	for _, e := range entries {
		b = append(b, e.LEAID...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, e.Offset, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, e.Length, 10)
		b = append(b, '\n')
	}
	return b
}

// findInIndex reads district leaid's entry and the header from an index; ok is false when
// the index has no line of the district.
func findInIndex(index []byte, leaid string) (header []byte, e IndexEntry, ok bool, err error) {
	rest, found := bytes.CutPrefix(index, []byte(indexMagic))
	nl := bytes.IndexByte(rest, '\n')
	if !found || nl < 0 {
		return nil, e, false, fmt.Errorf("not a districtlake index: it does not start with %q", indexMagic)
	}
	h, err := strconv.Atoi(string(rest[:nl]))
	if err != nil || h < 0 || h > len(rest)-nl-1 {
		return nil, e, false, fmt.Errorf("a damaged index: header length %q", rest[:nl])
	}
	header, lines := rest[nl+1:nl+1+h], rest[nl+1+h:]
	at := -1
	if bytes.HasPrefix(lines, []byte(leaid+" ")) {
		at = 0
	} else if i := bytes.Index(lines, []byte("\n"+leaid+" ")); i >= 0 {
		at = i + 1
	}
	if at < 0 {
		return header, e, false, nil
	}
	line := lines[at:]
	if end := bytes.IndexByte(line, '\n'); end >= 0 {
		line = line[:end]
	}
	fields := bytes.Fields(line)
	if len(fields) != 3 {
		return nil, e, false, fmt.Errorf("a damaged index: line %q", line)
	}
	off, err1 := strconv.ParseInt(string(fields[1]), 10, 64)
	n, err2 := strconv.ParseInt(string(fields[2]), 10, 64)
	if err1 != nil || err2 != nil || off < 0 || n < 0 {
		return nil, e, false, fmt.Errorf("a damaged index: line %q", line)
	}
	return header, IndexEntry{LEAID: leaid, Offset: off, Length: n}, true, nil
}

// maxCachedIndexes is the most bytes of indexes an IndexCache keeps: the indexes of a
// national file of 13,000 districts are about 0.5 MB.
const maxCachedIndexes = 64 << 20

// IndexCache keeps the landed indexes the districts of one run read. A revision's objects
// do not change once its manifest names them (the revision is the file's digest), so a
// run of 13,000 districts reads each state's index once instead of once per district.
// Past maxCachedIndexes bytes, an index is read each time. Safe for concurrent use.
type IndexCache struct {
	mu    sync.Mutex
	m     map[string][]byte
	bytes int64
}

// NewIndexCache makes an empty cache.
func NewIndexCache() *IndexCache { return &IndexCache{m: map[string][]byte{}} }

// read returns the index at key of store, from the cache when it was read before. A nil
// cache reads it each time.
func (c *IndexCache) read(ctx context.Context, store lake.Store, key string) ([]byte, error) {
	if c == nil {
		return readSmall(ctx, store, key, maxIndex)
	}
	id := store.URL() + "\x00" + key
	c.mu.Lock()
	b, ok := c.m[id]
	c.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := readSmall(ctx, store, key, maxIndex)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if _, ok := c.m[id]; !ok && c.bytes+int64(len(b)) <= maxCachedIndexes {
		c.m[id] = b
		c.bytes += int64(len(b))
	}
	c.mu.Unlock()
	return b, nil
}
