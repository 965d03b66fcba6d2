package lake_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// A published object is readable by all (mode 0644) whatever the umask of the process
// that wrote it: created so where the umask allows, chmod'ed where it does not. The
// umask is the process's: this test must not run in parallel with others.
func TestPublishedObjectModeUnderAnyUmask(t *testing.T) {
	for _, mask := range []int{0o022, 0o002, 0o077, 0o000, 0o027} {
		old := syscall.Umask(mask)
		func() {
			defer syscall.Umask(old)
			dir, s := fileStore(t)
			if _, err := s.Put(context.Background(), staffingKey, []byte("data")); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(filepath.Join(dir, staffingKey))
			if err != nil || fi.Mode().Perm() != 0o644 {
				t.Errorf("umask %03o: published object's mode %v, %v; want -rw-r--r--", mask, fi.Mode(), err)
			}
		}()
	}
}
