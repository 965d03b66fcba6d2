package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
)

// fetchRange opens bytes [off, off+n) of a remote file; the body holds those bytes only.
type fetchRange func(ctx context.Context, off, n int64) (io.ReadCloser, error)

// Sizes of the reads a rangeReaderAt makes.
const (
	// tailBytes is how much of an archive's end the first request reads: the end of the
	// central directory record with the longest comment (65,535 bytes), and the whole
	// directory of most archives.
	tailBytes = 65*1024 + 22
	// minBlock is the smallest range fetched for a read outside the announced window (a
	// local file header, a data descriptor).
	minBlock = 4 << 10
	// maxSkip is how far ahead of its position an open ranged response is read and
	// discarded rather than replaced by a new request.
	maxSkip = 64 << 10
)

// rangeReaderAt is an io.ReaderAt over a remote file read through byte ranges. It keeps
// the archive's tail and directory (prefetched, for good), the last other block it fetched
// (a local header), and for reads inside the window it was told of (a member's data) it
// opens one response that runs to the window's end, or to the kept tail when the window
// runs into it, and reads it as the reads go forward: a member costs one request, and no
// byte is fetched twice. It counts the bytes it receives into fetched.
type rangeReaderAt struct {
	ctx     context.Context
	fetch   fetchRange
	size    int64
	fetched *int64

	mu       sync.Mutex
	tail     []byte
	tailOff  int64
	block    []byte
	blockOff int64
	body     io.ReadCloser
	pos, end int64
	winStart int64
	winEnd   int64
}

func newRangeReaderAt(ctx context.Context, fetch fetchRange, size int64, fetched *int64) *rangeReaderAt {
	return &rangeReaderAt{ctx: ctx, fetch: fetch, size: size, fetched: fetched}
}

// setTail keeps b, the bytes of the file from off to its end, for every later read.
func (r *rangeReaderAt) setTail(b []byte, off int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tail, r.tailOff = b, off
}

// prefetch reads [off, off+n) into the kept tail, in front of what it holds when that
// follows directly (so the directory and the tail become one block).
func (r *rangeReaderAt) prefetch(off, n int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, err := r.readRange(off, n)
	if err != nil {
		return err
	}
	if len(r.tail) > 0 && r.tailOff == off+n {
		b = append(b, r.tail...)
	}
	r.tail, r.tailOff = b, off
	return nil
}

// window announces that [start, end) will be read from start to end: a read inside it
// opens one response to its end.
func (r *rangeReaderAt) window(start, end int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.winStart, r.winEnd = start, min(end, r.size)
}

// ReadAt reads len(p) bytes at off.
func (r *rangeReaderAt) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= r.size {
		return 0, io.EOF
	}
	want := p
	if rest := r.size - off; int64(len(p)) > rest {
		want = p[:rest]
	}
	done := 0
	for done < len(want) {
		n, err := r.readSome(want[done:], off+int64(done))
		done += n
		if err != nil {
			return done, err
		}
	}
	if len(want) < len(p) {
		return done, io.EOF
	}
	return done, nil
}

// readSome reads a first part of p at off: from the block, from the open response, from
// a new response to the window's end, or from a new block.
func (r *rangeReaderAt) readSome(p []byte, off int64) (int, error) {
	if off >= r.tailOff && off < r.tailOff+int64(len(r.tail)) {
		return copy(p, r.tail[off-r.tailOff:]), nil
	}
	if off >= r.blockOff && off < r.blockOff+int64(len(r.block)) {
		return copy(p, r.block[off-r.blockOff:]), nil
	}
	if r.body == nil || off < r.pos || off-r.pos > maxSkip || off >= r.end {
		r.closeBody()
		if off < r.winStart || off >= r.winEnd {
			b, err := r.readRange(off, min(max(int64(len(p)), minBlock), r.size-off))
			if err != nil {
				return 0, err
			}
			r.block, r.blockOff = b, off
			return copy(p, b), nil
		}
		end := r.winEnd
		if len(r.tail) > 0 && r.tailOff > off && r.tailOff < end {
			end = r.tailOff // the rest is in the kept tail
		}
		body, err := r.fetch(r.ctx, off, end-off)
		if err != nil {
			return 0, err
		}
		r.body, r.pos, r.end = &counterCloser{counter{r: body, n: r.fetched}, body}, off, end
	}
	if skip := off - r.pos; skip > 0 {
		if _, err := io.CopyN(io.Discard, r.body, skip); err != nil {
			r.closeBody()
			return 0, cutShort(err)
		}
		r.pos = off
	}
	n, err := io.ReadFull(r.body, p[:min(int64(len(p)), r.end-off)])
	r.pos += int64(n)
	if err != nil {
		r.closeBody()
		return n, cutShort(err)
	}
	return n, nil
}

// readRange fetches [off, off+n) whole.
func (r *rangeReaderAt) readRange(off, n int64) ([]byte, error) {
	body, err := r.fetch(r.ctx, off, n)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	b := make([]byte, n)
	got, err := io.ReadFull(&counter{r: body, n: r.fetched}, b)
	if err != nil {
		return nil, fmt.Errorf("bytes %d-%d: %w", off, off+n-1, cutShort(err))
	}
	return b[:got], nil
}

func (r *rangeReaderAt) closeBody() {
	if r.body != nil {
		_ = r.body.Close()
		r.body = nil
	}
}

// Close ends the open response, if any.
func (r *rangeReaderAt) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeBody()
	return nil
}

// cutShort names a response that ended before the bytes it announced.
func cutShort(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the response ended early")
	}
	return err
}

type counterCloser struct {
	counter
	io.Closer
}

// contentRange parses a Content-Range header, "bytes first-last/total"; total is -1
// when the server gives "*".
func contentRange(h string) (first, last, total int64, err error) {
	rest, ok := strings.CutPrefix(h, "bytes ")
	span, tot, ok2 := strings.Cut(rest, "/")
	a, b, ok3 := strings.Cut(span, "-")
	if !ok || !ok2 || !ok3 {
		return 0, 0, 0, fmt.Errorf("Content-Range %q is not bytes first-last/total", h)
	}
	if first, err = strconv.ParseInt(a, 10, 64); err == nil {
		last, err = strconv.ParseInt(b, 10, 64)
	}
	if err == nil {
		total = -1
		if tot != "*" {
			total, err = strconv.ParseInt(tot, 10, 64)
		}
	}
	if err != nil || first < 0 || last < first {
		return 0, 0, 0, fmt.Errorf("Content-Range %q is not bytes first-last/total", h)
	}
	return first, last, total, nil
}
