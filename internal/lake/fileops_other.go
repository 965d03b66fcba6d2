//go:build !unix

package lake

import "os"

// openFile is os.OpenFile (see fileops_unix.go).
func openFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag, perm)
}

// rename is os.Rename (see fileops_unix.go).
func rename(from, to string) error { return os.Rename(from, to) }
