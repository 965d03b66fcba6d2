package main

import (
	"archive/tar"
	"bytes"
	"debug/buildinfo"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// OCI annotation keys set as image labels.
const (
	LabelSource   = "org.opencontainers.image.source"
	LabelVersion  = "org.opencontainers.image.version"
	LabelRevision = "org.opencontainers.image.revision"
	LabelTitle    = "org.opencontainers.image.title"
	LabelCreated  = "org.opencontainers.image.created"
)

// Options describe the one-binary image to build.
type Options struct {
	Binary   string // path of the static binary on this machine
	Name     string // file name inside the image (at /); the binary's base name when empty
	Arch     string // image architecture, such as amd64
	User     string // numeric uid or uid:gid
	CABundle string // PEM file installed as /etc/ssl/certs/ca-certificates.crt; none when empty
	Source   string // label values
	Version  string
	Revision string // the binary's vcs.revision when empty
	Title    string // Name when empty
}

var numericUser = regexp.MustCompile(`^[0-9]+(:[0-9]+)?$`)

// Build returns the image: an empty base plus one layer holding the binary.
func Build(o Options) (v1.Image, error) {
	if o.Name == "" {
		o.Name = filepath.Base(o.Binary)
	}
	if o.Title == "" {
		o.Title = o.Name
	}
	if o.Arch == "" {
		return nil, fmt.Errorf("an architecture is required")
	}
	if !numericUser.MatchString(o.User) || strings.HasPrefix(o.User, "0") {
		return nil, fmt.Errorf("user %q must be a numeric, non-root uid or uid:gid", o.User)
	}
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, fmt.Errorf("reading the binary: %w", err)
	}
	created := buildTime(o)
	layerBytes, err := layerTar(o, bin, created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerBytes)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("making the layer: %w", err)
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: v1.Time{Time: created}, CreatedBy: "hack/image: " + o.Name},
	})
	if err != nil {
		return nil, fmt.Errorf("adding the layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS = "linux"
	cf.Architecture = o.Arch
	cf.Created = v1.Time{Time: created}
	uid := strings.SplitN(o.User, ":", 2)[0]
	cf.Config = v1.Config{
		Entrypoint: []string{"/" + o.Name},
		User:       o.User,
		WorkingDir: "/",
		Env: []string{
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"HOME=/home/" + uid,
			"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
		},
		Labels: labels(o, created),
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("writing the config: %w", err)
	}
	return img, nil
}

// buildTime is SOURCE_DATE_EPOCH when set, else the binary's vcs.time, else the Unix epoch, so
// the same binary gives the same image digest.
func buildTime(o Options) time.Time {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		var sec int64
		if _, err := fmt.Sscan(s, &sec); err == nil {
			return time.Unix(sec, 0).UTC()
		}
	}
	if t, err := time.Parse(time.RFC3339, vcsSetting(o.Binary, "vcs.time")); err == nil {
		return t.UTC()
	}
	return time.Unix(0, 0).UTC()
}

func labels(o Options, created time.Time) map[string]string {
	rev := o.Revision
	if rev == "" {
		rev = vcsSetting(o.Binary, "vcs.revision")
		if rev != "" && vcsSetting(o.Binary, "vcs.modified") == "true" {
			rev += "-dirty"
		}
	}
	l := map[string]string{
		LabelSource:  o.Source,
		LabelVersion: o.Version,
		LabelTitle:   o.Title,
		LabelCreated: created.Format(time.RFC3339),
	}
	if rev != "" {
		l[LabelRevision] = rev
	}
	return l
}

// vcsSetting reads one build setting stamped into a Go binary; empty when absent.
func vcsSetting(binary, key string) string {
	info, err := buildinfo.ReadFile(binary)
	if err != nil {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

// layerTar writes the one layer: /, /etc, /etc/passwd, /etc/group, /home/<uid>, /tmp, the CA
// bundle and the binary, all owned by root except the home folder.
func layerTar(o Options, bin []byte, mtime time.Time) ([]byte, error) {
	parts := strings.SplitN(o.User, ":", 2)
	uid := parts[0]
	gid := uid
	if len(parts) == 2 {
		gid = parts[1]
	}
	uidN, err := strconv.Atoi(uid)
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", o.User, err)
	}
	gidN, err := strconv.Atoi(gid)
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", o.User, err)
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%s:%s:nonroot:/home/%s:/sbin/nologin\n", uid, gid, uid)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%s:\n", gid)

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(name string, mode int64, owner, group int) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, Uid: owner, Gid: group, ModTime: mtime, Format: tar.FormatPAX})
	}
	file := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	steps := []func() error{
		func() error { return dir("etc/", 0o755, 0, 0) },
		func() error { return file("etc/passwd", 0o644, []byte(passwd)) },
		func() error { return file("etc/group", 0o644, []byte(group)) },
		func() error { return dir("home/", 0o755, 0, 0) },
		func() error { return dir("home/"+uid+"/", 0o700, uidN, gidN) },
		func() error { return dir("tmp/", 0o1777, 0, 0) },
	}
	if o.CABundle != "" {
		ca, err := os.ReadFile(o.CABundle)
		if err != nil {
			return nil, fmt.Errorf("reading the CA bundle: %w", err)
		}
		steps = append(steps,
			func() error { return dir("etc/ssl/", 0o755, 0, 0) },
			func() error { return dir("etc/ssl/certs/", 0o755, 0, 0) },
			func() error { return file("etc/ssl/certs/ca-certificates.crt", 0o644, ca) },
		)
	}
	steps = append(steps, func() error { return file(o.Name, 0o755, bin) })
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("writing the layer: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("closing the layer: %w", err)
	}
	return buf.Bytes(), nil
}
