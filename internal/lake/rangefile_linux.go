package lake

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// openRange opens n bytes of file name from off by its descriptor alone: open, pread,
// close, without the fcntl of os.NewFile or a stat for the size (a file shorter than the
// range is an error when read, as rangeReader reports it). A national run reads 13,000
// such ranges.
func openRange(name string, off, n int64) (io.ReadCloser, error) {
	fd, err := openFD(name, syscall.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	f := &fdFile{fd: fd, name: name}
	return &rangeReader{r: io.NewSectionReader(f, off, n), close: f.Close, left: n, name: name}, nil
}

// fdFile reads a file held by its descriptor alone.
type fdFile struct {
	fd   int
	name string
}

// ReadAt is pread(2), retried when a signal interrupts it; io.EOF at the file's end.
func (f *fdFile) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		m, err := syscall.Pread(f.fd, p[n:], off+int64(n))
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return n, &os.PathError{Op: "read", Path: f.name, Err: err}
		}
		if m == 0 {
			return n, io.EOF
		}
		n += m
	}
	return n, nil
}

// Close closes the descriptor; Linux frees it even when close fails.
func (f *fdFile) Close() error {
	if err := syscall.Close(f.fd); err != nil {
		return &os.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}
