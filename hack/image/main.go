// Command image writes an OCI image tarball of one static binary without a Docker daemon, so
// that this machine and CI can build the districtlake image (and the cluster's pause image)
// and import it with `ctr images import`.
//
//	go run ./hack/image -binary bin/districtlake -tag localhost/districtlake:dev -o bin/districtlake-image.tar
//
// The image is an empty base plus one layer: the binary at /<name> (mode 0755), /tmp (1777),
// /etc/passwd and /etc/group naming the non-root user, and the CA bundle when one is given.
// Its config sets os/architecture (without them `ctr images import` filters the image out),
// the entrypoint, the numeric user and the OCI labels.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	var o Options
	var tag, out string
	fs.StringVar(&o.Binary, "binary", "", "static binary to put in the image (required)")
	fs.StringVar(&o.Name, "name", "", "file name of the binary inside the image, at / (default: the binary's base name)")
	fs.StringVar(&tag, "tag", "", "image reference written into the tarball, such as localhost/districtlake:dev (required)")
	fs.StringVar(&out, "o", "", "tarball to write (required)")
	fs.StringVar(&o.Arch, "arch", runtime.GOARCH, "image architecture; must match the binary")
	fs.StringVar(&o.User, "user", "65532", "numeric user (uid or uid:gid) the container runs as")
	fs.StringVar(&o.CABundle, "ca-bundle", defaultCABundle(), "CA certificates to install at /etc/ssl/certs/ca-certificates.crt; empty for none")
	fs.StringVar(&o.Source, "source", "https://github.com/districtlake/districtlake", "org.opencontainers.image.source label")
	fs.StringVar(&o.Version, "version", "dev", "org.opencontainers.image.version label")
	fs.StringVar(&o.Revision, "revision", "", "org.opencontainers.image.revision label (default: the binary's vcs.revision)")
	fs.StringVar(&o.Title, "title", "", "org.opencontainers.image.title label (default: the file name)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.Binary == "" || tag == "" || out == "" {
		return fmt.Errorf("-binary, -tag and -o are required")
	}
	ref, err := name.NewTag(tag, name.StrictValidation)
	if err != nil {
		return fmt.Errorf("parsing -tag %q: %w", tag, err)
	}
	img, err := Build(o)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("creating the folder of %s: %w", out, err)
	}
	tmp := out + ".tmp"
	if err := tarball.WriteToFile(tmp, ref, img); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("renaming %s: %w", tmp, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return fmt.Errorf("computing the image digest: %w", err)
	}
	fmt.Fprintf(os.Stderr, "image: wrote %s (%s, %s)\n", out, ref.Name(), digest)
	return nil
}

// defaultCABundle is the host's CA bundle when it has the usual Debian one.
func defaultCABundle() string {
	const p = "/etc/ssl/certs/ca-certificates.crt"
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}
