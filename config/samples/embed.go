// Package samples embeds the sample folder (a Lake, StateComparisons for WI, IL and MO, three
// SharedSources of a national-style CRDC file, and four DistrictSources with their ConfigMaps)
// so that `districtlake run` works without -f.
package samples

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed *.yaml
var files embed.FS

// FS returns the sample YAML files.
func FS() fs.FS {
	return files
}

// WriteTo copies the sample YAML files into dir, which must exist.
func WriteTo(dir string) error {
	return fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(name)
		if err != nil {
			return fmt.Errorf("reading embedded sample %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("writing sample %s: %w", name, err)
		}
		return nil
	})
}
