package lake

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// fdRange reads bytes off to end of a file by its descriptor alone: open, pread, close,
// without the fcntl of os.NewFile or a stat for the size (a file shorter than the range is
// an error when read). A national run reads 13,000 such ranges.
type fdRange struct {
	fd       int
	off, end int64
	name     string
}

// openRange opens n bytes of file name from off.
func openRange(name string, off, n int64) (io.ReadCloser, error) {
	fd, err := openFD(name, syscall.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	return &fdRange{fd: fd, off: off, end: off + n, name: name}, nil
}

func (r *fdRange) Read(p []byte) (int, error) {
	if r.off >= r.end {
		return 0, io.EOF
	}
	if left := r.end - r.off; int64(len(p)) > left {
		p = p[:left]
	}
	for {
		m, err := syscall.Pread(r.fd, p, r.off)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return 0, &os.PathError{Op: "read", Path: r.name, Err: err}
		}
		if m == 0 {
			return 0, fmt.Errorf("reading %s: it ended %d bytes before the range did: %w", r.name, r.end-r.off, io.ErrUnexpectedEOF)
		}
		r.off += int64(m)
		return m, nil
	}
}

// Close closes the descriptor; Linux frees it even when close fails.
func (r *fdRange) Close() error {
	if err := syscall.Close(r.fd); err != nil {
		return &os.PathError{Op: "close", Path: r.name, Err: err}
	}
	return nil
}
