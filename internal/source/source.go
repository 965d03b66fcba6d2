// Package source fetches the files a run ingests: over http(s), from an S3 bucket, from a
// local file (a mounted ConfigMap key in a Job) or from the plan itself (inline). Every
// fetch is a Stream that counts and hashes the bytes as they are read, stops at the
// source's byte limit and checks the expected SHA-256 at the end.
//
// An http or s3 source may name a member of a ZIP archive: then only the archive's
// central directory and that member's bytes are fetched, through ranged requests, or
// the archive is downloaded once to a scratch file when the server does not answer
// ranges. A gzip-compressed file is recognised by its first bytes and decompressed as it
// is read. The byte limit, the size and the checksum are those of the file as parsed
// (the member, the decompressed content); Fetched counts what came over the wire.
package source

import (
	"archive/zip"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	"github.com/districtlake/districtlake/internal/egress"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
)

// Defaults of a source's limits.
const (
	DefaultMaxBytes = 2 << 30
	DefaultTimeout  = 30 * time.Minute
	// MaxRedirects is how many http redirects a fetch follows.
	MaxRedirects = 5
)

// Stream is one source's bytes as they arrive. It counts them, hashes them (SHA-256),
// fails once more than the source's byte limit has arrived, and at the end checks the
// hash the plan expects: a mismatch is the error of the final Read, in place of io.EOF.
// Errors name the source and where it is from (never a secret).
type Stream struct {
	ctx      context.Context
	name     string
	location string
	r        io.Reader
	closer   func() error
	max      int64
	size     int64
	etag     string
	expect   string
	// lastModified is the server's Last-Modified header (an HTTP date).
	lastModified string
	// member is the ZIP member read (empty when the source is not an archive).
	member  string
	gzip    bool
	spooled bool

	hash    hash.Hash
	n       int64
	fetched int64
	err     error // sticky: once set, every Read returns it
}

// Read reads the source.
func (s *Stream) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	// Read at most one byte past the limit, so an oversize source is seen at once.
	if room := s.max - s.n + 1; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := s.r.Read(p)
	s.hash.Write(p[:n])
	s.n += int64(n)
	if s.n > s.max {
		s.err = fmt.Errorf("source %s: %s is larger than the limit of %d bytes (maxBytes)", s.name, s.describe(), s.max)
		return n - int(s.n-s.max), s.err
	}
	switch {
	case err == io.EOF:
		if s.size >= 0 && s.n != s.size {
			s.err = fmt.Errorf("source %s: %s ended after %d bytes of the %d announced", s.name, s.describe(), s.n, s.size)
			return n, s.err
		}
		if s.expect != "" {
			if got := s.SHA256(); got != s.expect {
				s.err = fmt.Errorf("source %s: the sha256 of %s is %s, not the expected %s", s.name, s.describe(), got, s.expect)
				return n, s.err
			}
		}
		s.err = io.EOF
	case err != nil:
		if cause := context.Cause(s.ctx); cause != nil {
			err = cause
		}
		s.err = fmt.Errorf("source %s: reading %s after %d bytes: %w", s.name, s.describe(), s.n, explainRead(err))
	}
	return n, s.err
}

// Close releases the connection or file.
func (s *Stream) Close() error {
	if s.closer == nil {
		return nil
	}
	c := s.closer
	s.closer = nil
	return c()
}

// Bytes is how many bytes were read so far: of the member of a ZIP archive, of the
// decompressed content of a gzip file.
func (s *Stream) Bytes() int64 { return s.n }

// Fetched is how many bytes came from the origin so far: the ranges of an archive that
// were read, the whole archive when it was spooled, the compressed bytes of a gzip file.
func (s *Stream) Fetched() int64 { return s.fetched }

// Member is the ZIP member read, or empty.
func (s *Stream) Member() string { return s.member }

// Gzip tells whether the file was gzip-compressed (and is read decompressed).
func (s *Stream) Gzip() bool { return s.gzip }

// Spooled tells whether the archive was downloaded whole to a scratch file, because the
// server does not answer range requests.
func (s *Stream) Spooled() bool { return s.spooled }

// SHA256 is the hex SHA-256 of the bytes read so far (of the whole source after EOF).
func (s *Stream) SHA256() string { return hex.EncodeToString(s.hash.Sum(nil)) }

// ETag is the server's ETag (http and s3) of the file fetched (the archive, for a
// member), without quotes; empty when unknown.
func (s *Stream) ETag() string { return s.etag }

// LastModified is the server's Last-Modified date (http and s3) of the file fetched (the
// archive, for a member), as an HTTP date; empty when unknown.
func (s *Stream) LastModified() string { return s.lastModified }

// Size is the source's announced length in bytes as parsed (a member's uncompressed
// size), or -1 when unknown (a gzip file).
func (s *Stream) Size() int64 { return s.size }

// Location is where the source is from: a URL (password removed), s3://bucket/key or a
// path; never a secret.
func (s *Stream) Location() string { return s.location }

// Name is the source's name in the plan.
func (s *Stream) Name() string { return s.name }

// Options are how a fetch may use the machine it runs on.
type Options struct {
	// TempDir holds the scratch copy of an archive whose server does not answer range
	// requests (os.TempDir(), that is $TMPDIR, when empty).
	TempDir string
	// IfNoneMatch (an ETag a previous fetch saw) and IfModifiedSince (its Last-Modified,
	// an HTTP date) make an http or s3 fetch conditional: when the file is unchanged,
	// OpenWith fetches nothing and returns an error that errors.Is ErrNotModified.
	IfNoneMatch     string
	IfModifiedSince string
	// Egress limits the addresses an http or s3 fetch connects to, redirects included;
	// the zero Policy allows every address.
	Egress egress.Policy
	// Lake, when set, is a lake already open: a landed source in that lake is read
	// through it instead of a store opened for each read (a run's districts read what
	// the run landed in its own lake).
	Lake *OpenLake
	// Indexes keeps the indexes of landed state objects for the districts of one run
	// (each read is its own when nil).
	Indexes *IndexCache
}

// OpenLake is an open store of the lake Config names.
type OpenLake struct {
	Config lake.Config
	Store  lake.Store
}

// ErrNotModified is the error of a conditional fetch whose file has not changed.
var ErrNotModified = errors.New("not modified since the last fetch")

// conditional reports whether the fetch is conditional.
func (o Options) conditional() bool { return o.IfNoneMatch != "" || o.IfModifiedSince != "" }

// Open starts fetching a source with the default Options.
func Open(ctx context.Context, src plan.Source, env lake.Env) (*Stream, error) {
	return OpenWith(ctx, src, env, Options{})
}

// OpenWith starts fetching a source: it returns a reader of the file the plan names (a
// ZIP member read out of its archive, a gzip file decompressed). Secrets (http headers,
// S3 credentials) are read from env through the variable names the plan gives. The
// caller must Close the Stream. The source's timeout (30 minutes by default) bounds the
// whole fetch, reading included.
func OpenWith(ctx context.Context, src plan.Source, env lake.Env, opts Options) (*Stream, error) {
	if env == nil {
		env = lake.OSEnv()
	}
	s := &Stream{name: src.Name, max: src.MaxBytes, size: -1, hash: sha256.New()}
	if s.max <= 0 {
		s.max = DefaultMaxBytes
	}
	if src.SHA256 != "" {
		s.expect = strings.ToLower(strings.TrimPrefix(src.SHA256, "sha256:"))
	}
	timeout := DefaultTimeout
	if src.TimeoutSeconds > 0 {
		timeout = time.Duration(src.TimeoutSeconds) * time.Second
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, &timeoutError{timeout})
	s.ctx = ctx
	var err error
	switch {
	case src.HTTP != nil && src.HTTP.Member != "":
		s.member = src.HTTP.Member
		err = openHTTPMember(ctx, s, src.HTTP, env, opts)
	case src.HTTP != nil:
		err = openHTTP(ctx, s, src.HTTP, env, opts)
	case src.S3 != nil && src.S3.Member != "":
		s.member = src.S3.Member
		err = openS3Member(ctx, s, src.S3, env, opts)
	case src.S3 != nil:
		err = openS3(ctx, s, src.S3, env, opts)
	case src.File != nil:
		err = openFile(s, src.File)
	case src.Landed != nil:
		err = openLanded(ctx, s, src.Landed, env, opts.Lake, opts.Indexes)
	case src.Inline != nil:
		s.location = "inline"
		s.r = strings.NewReader(*src.Inline)
		s.size = int64(len(*src.Inline))
	default:
		err = fmt.Errorf("source %s: no http, s3, file, landed or inline given", src.Name)
	}
	if err != nil {
		cancel()
		return nil, err
	}
	if s.member == "" {
		s.r = &counter{r: s.r, n: &s.fetched}
	}
	if err := s.gunzip(); err != nil {
		_ = s.closeWith(cancel)
		return nil, err
	}
	if s.size > s.max {
		_ = s.closeWith(cancel)
		return nil, fmt.Errorf("source %s: %s is %d bytes, over the limit of %d bytes (maxBytes)", s.name, s.describe(), s.size, s.max)
	}
	inner := s.closer
	s.closer = func() error {
		defer cancel()
		if inner != nil {
			return inner()
		}
		return nil
	}
	return s, nil
}

func (s *Stream) closeWith(cancel context.CancelFunc) error {
	defer cancel()
	if s.closer != nil {
		return s.closer()
	}
	return nil
}

// describe is where the source is from, with its member: for messages.
func (s *Stream) describe() string {
	if s.member == "" {
		return s.location
	}
	return fmt.Sprintf("%s member %q", s.location, s.member)
}

// gunzip makes the Stream read decompressed content when the file starts with gzip's
// magic bytes. The decompressed size is unknown until the end.
func (s *Stream) gunzip() error {
	n := 64 << 10
	if s.size > 0 && s.size < int64(n) {
		n = max(int(s.size), 16) // a small object (one district's rows of a landed file)
	}
	br := bufio.NewReaderSize(s.r, n)
	s.r = br
	// A read error here (a stalled server) stays in br and is the error of the first Read.
	magic, _ := br.Peek(2)
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return fmt.Errorf("source %s: %s starts as a gzip file but is not one: %w", s.name, s.describe(), explainRead(err))
	}
	s.r = zr
	s.gzip = true
	s.size = -1
	return nil
}

// counter counts the bytes read through it into n.
type counter struct {
	r io.Reader
	n *int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

// timeoutError is the cause of a fetch's context when its timeout passes.
type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string { return fmt.Sprintf("timed out after %s", e.d) }

// explainRead turns a read error into words; a passed deadline names the timeout.
func explainRead(err error) error {
	var te *timeoutError
	if errors.As(err, &te) {
		return te
	}
	if errors.Is(err, zip.ErrChecksum) || errors.Is(err, zip.ErrFormat) {
		return zipError(err)
	}
	return lake.Explain(err)
}
