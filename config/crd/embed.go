// Package crd embeds the generated CustomResourceDefinitions (bases/*.yaml) so that the
// binary can validate objects with the CRDs' own OpenAPI schemas and CEL rules, exactly as
// the API server would, without a cluster.
package crd

import (
	"embed"
	"io/fs"
)

//go:embed bases/*.yaml
var bases embed.FS

// Bases returns the CRD files; their names are bases/<group>_<plural>.yaml.
func Bases() fs.FS {
	return bases
}
