package land

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
)

// spool is a national file split by district on disk: every row is written once, in
// file order, to a scratch file, and memory holds only the header and, per district, the
// extents of the file where its rows are. A published national file is sorted by LEAID,
// so a district's rows are one extent and the index is a few dozen bytes per district
// whatever the file's size; an unsorted file costs one extent per change of district.
type spool struct {
	f   *os.File
	w   *bufio.Writer
	off int64
	// header is the header line of a csv file (nil for ndjson), written first in each
	// district's object.
	header []byte
	index  map[string]*district
	rows   int64
	// extents is the number of extents in the index.
	extents int
}

// district is where one district's rows are in the spool.
type district struct {
	extents []extent
	bytes   int64
}

type extent struct{ off, n int64 }

// newSpool creates the scratch file in dir ("" for the system's temporary folder).
func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, "districtlake-land-*.spool")
	if err != nil {
		return nil, fmt.Errorf("creating the scratch file the shared file is split into: %w", err)
	}
	return &spool{f: f, w: bufio.NewWriterSize(f, 256<<10), index: map[string]*district{}}, nil
}

// add appends one row (with its line end) of district id.
func (s *spool) add(id string, row []byte) error {
	d := s.index[id]
	if d == nil {
		d = &district{}
		s.index[id] = d
	}
	n := int64(len(row))
	if k := len(d.extents); k > 0 && d.extents[k-1].off+d.extents[k-1].n == s.off {
		d.extents[k-1].n += n
	} else {
		d.extents = append(d.extents, extent{off: s.off, n: n})
		s.extents++
	}
	d.bytes += n
	if _, err := s.w.Write(row); err != nil {
		return fmt.Errorf("writing the scratch file %s: %w", s.f.Name(), err)
	}
	s.off += n
	s.rows++
	return nil
}

// finish writes what is buffered, so that the rows can be read back.
func (s *spool) finish() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("writing the scratch file %s: %w", s.f.Name(), err)
	}
	return nil
}

// appendRows appends the rows (without the header) of districts ids, in that order, to
// b, with one read for each run of extents that follow each other in the spool: a file
// sorted by LEAID gives a state's districts in one read.
func (s *spool) appendRows(b []byte, ids []string) ([]byte, error) {
	var run extent // the extents read next, merged while they follow each other
	read := func() error {
		if run.n == 0 {
			return nil
		}
		start := len(b)
		b = slices.Grow(b, int(run.n))[:start+int(run.n)]
		if _, err := s.f.ReadAt(b[start:], run.off); err != nil {
			return fmt.Errorf("reading the scratch file %s: %w", s.f.Name(), err)
		}
		return nil
	}
	for _, id := range ids {
		for _, e := range s.index[id].extents {
			if run.n > 0 && run.off+run.n == e.off {
				run.n += e.n
				continue
			}
			if err := read(); err != nil {
				return nil, err
			}
			run = e
		}
	}
	err := read()
	return b, err
}

// districtRows streams district id's rows (without the header).
func (s *spool) districtRows(id string) io.Reader {
	d := s.index[id]
	rs := make([]io.Reader, 0, len(d.extents))
	for _, e := range d.extents {
		rs = append(rs, io.NewSectionReader(s.f, e.off, e.n))
	}
	return io.MultiReader(rs...)
}

// remove deletes the scratch file.
func (s *spool) remove() {
	_ = s.f.Close()
	_ = os.Remove(s.f.Name())
}
