//go:build !linux

package lake

import "os"

// syncFS flushes what it can where syncfs(2) does not exist: the folder dir itself. Objects
// are still published atomically (renames); only durability across a crash of the machine
// is weaker than on Linux.
func syncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
