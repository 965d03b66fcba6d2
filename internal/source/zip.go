package source

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// closestNames is how many of an archive's names a missing member's error lists.
const closestNames = 5

// openRangedMember reads the member of a remote archive whose tail ra already holds: it
// fetches the central directory when the tail does not hold it, then the member's local
// header and its data in one response.
func openRangedMember(s *Stream, ra *rangeReaderAt, tail []byte) error {
	if dirOff, ok := directoryOffset(tail); ok {
		tailOff := ra.size - int64(len(tail))
		if dirOff < tailOff {
			if err := ra.prefetch(dirOff, tailOff-dirOff); err != nil {
				return fmt.Errorf("source %s: reading the ZIP directory of %s: %w", s.name, s.location, err)
			}
		}
	}
	f, err := findMember(s, ra, ra.size)
	if err != nil {
		return err
	}
	dataOff, err := f.DataOffset()
	if err != nil {
		return fmt.Errorf("source %s: reading %s: %w", s.name, s.describe(), zipError(err))
	}
	end := dataOff + int64(f.CompressedSize64)
	if f.Flags&0x8 != 0 {
		end += 16 // the data descriptor archive/zip reads after the data
	}
	ra.window(dataOff, end)
	return openFound(s, f)
}

// openSpooledMember reads the member out of an archive on local disk.
func openSpooledMember(s *Stream, ra io.ReaderAt, size int64) error {
	f, err := findMember(s, ra, size)
	if err != nil {
		return err
	}
	return openFound(s, f)
}

// findMember reads the archive's directory and finds the Stream's member in it.
func findMember(s *Stream, ra io.ReaderAt, size int64) (*zip.File, error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		if errors.Is(err, zip.ErrFormat) {
			return nil, fmt.Errorf("source %s: %s is not a ZIP archive (or is cut short), so it has no member %q", s.name, s.location, s.member)
		}
		return nil, fmt.Errorf("source %s: reading the ZIP directory of %s: %w", s.name, s.location, zipError(err))
	}
	names := make([]string, 0, len(zr.File))
	for _, f := range zr.File {
		if f.Name == s.member && !strings.HasSuffix(f.Name, "/") {
			return f, nil
		}
		if !strings.HasSuffix(f.Name, "/") {
			names = append(names, f.Name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("source %s: %s has no member %q: the archive holds no files", s.name, s.location, s.member)
	}
	quoted := make([]string, 0, closestNames)
	for _, n := range closest(s.member, names, closestNames) {
		quoted = append(quoted, fmt.Sprintf("%q", n))
	}
	return nil, fmt.Errorf("source %s: %s has no member %q (names are exact paths); the closest of its %d files: %s",
		s.name, s.location, s.member, len(names), strings.Join(quoted, ", "))
}

// openFound makes the Stream read the member f.
func openFound(s *Stream, f *zip.File) error {
	rc, err := f.Open()
	if err != nil {
		if errors.Is(err, zip.ErrAlgorithm) {
			return fmt.Errorf("source %s: %s is compressed with method %d; only stored (0) and deflated (8) members can be read",
				s.name, s.describe(), f.Method)
		}
		return fmt.Errorf("source %s: reading %s: %w", s.name, s.describe(), zipError(err))
	}
	s.r = rc
	s.size = int64(f.UncompressedSize64)
	prev := s.closer
	s.closer = func() error {
		err := rc.Close()
		if prev != nil {
			err = errors.Join(err, prev())
		}
		return err
	}
	return nil
}

// zipError says what archive/zip's errors mean.
func zipError(err error) error {
	switch {
	case errors.Is(err, zip.ErrFormat):
		return errors.New("the archive is damaged (not a valid ZIP structure)")
	case errors.Is(err, zip.ErrChecksum):
		return errors.New("the member's CRC-32 does not match its content")
	}
	return err
}

// directoryOffset finds the end of central directory record in an archive's tail and
// returns where the directory starts. It is a hint for one request, so it gives up on
// ZIP64 archives (archive/zip then reads their directory block by block).
func directoryOffset(tail []byte) (int64, bool) {
	sig := []byte{'P', 'K', 5, 6}
	i := bytes.LastIndex(tail, sig)
	if i < 0 || len(tail)-i < 22 {
		return 0, false
	}
	off := binary.LittleEndian.Uint32(tail[i+16:])
	if off == 0xffffffff {
		return 0, false
	}
	return int64(off), true
}

// closest returns up to n names nearest to want by edit distance (ignoring case), the
// nearest first.
func closest(want string, names []string, n int) []string {
	type scored struct {
		name string
		d    int
	}
	lw := strings.ToLower(want)
	all := make([]scored, 0, len(names))
	for _, name := range names {
		all = append(all, scored{name, editDistance(lw, strings.ToLower(name))})
	}
	slices.SortStableFunc(all, func(a, b scored) int {
		if a.d != b.d {
			return a.d - b.d
		}
		return strings.Compare(a.name, b.name)
	})
	out := make([]string, 0, n)
	for _, s := range all[:min(n, len(all))] {
		out = append(out, s.name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// spoolMember downloads a whole archive to a scratch file in opts.TempDir and reads the
// member from there; the file is removed when the Stream is closed.
func spoolMember(s *Stream, body io.Reader, announced int64, opts Options) error {
	f, err := os.CreateTemp(opts.TempDir, "districtlake-"+s.name+"-*.zip")
	if err != nil {
		return fmt.Errorf("source %s: spooling %s: %w", s.name, s.location, err)
	}
	prev := s.closer
	s.closer = func() error {
		err := errors.Join(f.Close(), os.Remove(f.Name()))
		if prev != nil {
			err = errors.Join(err, prev())
		}
		return err
	}
	n, err := io.Copy(f, &counter{r: body, n: &s.fetched})
	if err != nil {
		if cause := context.Cause(s.ctx); cause != nil {
			err = cause
		}
		return fmt.Errorf("source %s: downloading %s after %d bytes: %w", s.name, s.location, n, explainRead(err))
	}
	if announced >= 0 && n != announced {
		return fmt.Errorf("source %s: %s ended after %d bytes of the %d announced", s.name, s.location, n, announced)
	}
	return openSpooledMember(s, f, n)
}
