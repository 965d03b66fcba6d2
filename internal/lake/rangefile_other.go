//go:build !linux

package lake

import (
	"io"
	"os"
)

// openRange opens n bytes of file name from off (see rangefile_linux.go).
func openRange(name string, off, n int64) (io.ReadCloser, error) {
	f, err := openFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	return &rangeReader{r: io.NewSectionReader(f, off, n), close: f.Close, left: n, name: name}, nil
}
