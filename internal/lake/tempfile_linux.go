package lake

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strconv"
	"syscall"
	"time"
)

// tempFile is a file being written before it is published, held by its descriptor
// alone: os.NewFile asks a descriptor for its flags, one system call more for each of a
// national run's 40,000 objects, and each system call is dear on a virtual machine.
type tempFile struct {
	fd   int
	name string
}

// createFile makes the new file name (it must not exist) with mode perm less the umask.
func createFile(name string, perm os.FileMode) (*tempFile, error) {
	fd, err := openFD(name, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL, perm)
	if err != nil {
		return nil, err
	}
	return &tempFile{fd: fd, name: name}, nil
}

func (f *tempFile) Name() string { return f.name }

// Write writes all of p, or returns why not.
func (f *tempFile) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := syscall.Write(f.fd, p[n:])
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return n, &os.PathError{Op: "write", Path: f.name, Err: err}
		}
		if m == 0 {
			return n, &os.PathError{Op: "write", Path: f.name, Err: io.ErrShortWrite}
		}
		n += m
	}
	return n, nil
}

func (f *tempFile) Chmod(mode os.FileMode) error {
	if err := syscall.Fchmod(f.fd, uint32(mode.Perm())); err != nil {
		return &os.PathError{Op: "chmod", Path: f.name, Err: err}
	}
	return nil
}

// ModTime is the time the file was last written.
func (f *tempFile) ModTime() (time.Time, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(f.fd, &st); err != nil {
		return time.Time{}, &os.PathError{Op: "stat", Path: f.name, Err: err}
	}
	return time.Unix(st.Mtim.Unix()), nil
}

// Close closes the descriptor; Linux frees it even when close fails, so it is not retried.
func (f *tempFile) Close() error {
	if err := syscall.Close(f.fd); err != nil {
		return &os.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}

// processUmask is the process's umask, read from /proc/self/status (Linux 4.7 and
// later) without changing it, as syscall.Umask would for a moment; ok is false when the
// kernel does not say.
func processUmask() (mask os.FileMode, ok bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for line := range bytes.Lines(b) {
		if v, found := bytes.CutPrefix(line, []byte("Umask:")); found {
			n, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 8, 32)
			return os.FileMode(n), err == nil
		}
	}
	return 0, false
}
