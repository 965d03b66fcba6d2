//go:build !linux

package lake

import (
	"os"
	"time"
)

// tempFile is a file being written before it is published (see tempfile_linux.go).
type tempFile struct{ *os.File }

// createFile makes the new file name (it must not exist) with mode perm less the umask.
func createFile(name string, perm os.FileMode) (*tempFile, error) {
	f, err := openFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return nil, err
	}
	return &tempFile{f}, nil
}

// ModTime is the time the file was last written.
func (f *tempFile) ModTime() (time.Time, error) {
	fi, err := f.Stat()
	if err != nil {
		return time.Time{}, err
	}
	return fi.ModTime(), nil
}

// processUmask does not know the umask here: published files are always chmod'ed.
func processUmask() (os.FileMode, bool) { return 0, false }
