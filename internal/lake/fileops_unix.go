//go:build unix

package lake

import (
	"errors"
	"os"
	"syscall"
)

// openFile is os.OpenFile for a lake's regular files without Go's poller: os.OpenFile
// makes every file non-blocking, tries to add it to epoll (which refuses regular files)
// and makes it blocking again, several system calls more per file, and a national run
// opens 40,000 files.
func openFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	fd, err := openFD(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

// openFD is open(2) of name, close-on-exec, retried when a signal interrupts it.
func openFD(name string, flag int, perm os.FileMode) (int, error) {
	for {
		fd, err := syscall.Open(name, flag|syscall.O_CLOEXEC, uint32(perm.Perm()))
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: name, Err: err}
		}
		return fd, nil
	}
}

// rename is os.Rename without its Lstat of the destination, made to refuse replacing a
// folder with a file, which rename(2) refuses too.
func rename(from, to string) error {
	if err := syscall.Rename(from, to); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}
