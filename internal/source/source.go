// Package source fetches the files a run ingests: over http(s), from an S3 bucket, from a
// local file (a mounted ConfigMap key in a Job) or from the plan itself (inline). Every
// fetch is a Stream that counts and hashes the bytes as they are read, stops at the
// source's byte limit and checks the expected SHA-256 at the end.
package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

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

	hash hash.Hash
	n    int64
	err  error // sticky: once set, every Read returns it
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
		s.err = fmt.Errorf("source %s: %s is larger than the limit of %d bytes (maxBytes)", s.name, s.location, s.max)
		return n - int(s.n-s.max), s.err
	}
	switch {
	case err == io.EOF:
		if s.size >= 0 && s.n != s.size {
			s.err = fmt.Errorf("source %s: %s ended after %d bytes of the %d announced", s.name, s.location, s.n, s.size)
			return n, s.err
		}
		if s.expect != "" {
			if got := s.SHA256(); got != s.expect {
				s.err = fmt.Errorf("source %s: the sha256 of %s is %s, not the expected %s", s.name, s.location, got, s.expect)
				return n, s.err
			}
		}
		s.err = io.EOF
	case err != nil:
		if cause := context.Cause(s.ctx); cause != nil {
			err = cause
		}
		s.err = fmt.Errorf("source %s: reading %s after %d bytes: %w", s.name, s.location, s.n, explainRead(err))
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

// Bytes is how many bytes were read so far.
func (s *Stream) Bytes() int64 { return s.n }

// SHA256 is the hex SHA-256 of the bytes read so far (of the whole source after EOF).
func (s *Stream) SHA256() string { return hex.EncodeToString(s.hash.Sum(nil)) }

// ETag is the server's ETag (http and s3), without quotes; empty when unknown.
func (s *Stream) ETag() string { return s.etag }

// Size is the source's announced length in bytes, or -1 when unknown.
func (s *Stream) Size() int64 { return s.size }

// Location is where the source is from: a URL (password removed), s3://bucket/key or a
// path; never a secret.
func (s *Stream) Location() string { return s.location }

// Name is the source's name in the plan.
func (s *Stream) Name() string { return s.name }

// Open starts fetching a source. Secrets (http headers, S3 credentials) are read from env
// through the variable names the plan gives. The caller must Close the Stream. The
// source's timeout (30 minutes by default) bounds the whole fetch, reading included.
func Open(ctx context.Context, src plan.Source, env lake.Env) (*Stream, error) {
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
	case src.HTTP != nil:
		err = openHTTP(ctx, s, src.HTTP, env)
	case src.S3 != nil:
		err = openS3(ctx, s, src.S3, env)
	case src.File != nil:
		err = openFile(s, src.File)
	case src.Inline != nil:
		s.location = "inline"
		s.r = strings.NewReader(*src.Inline)
		s.size = int64(len(*src.Inline))
	default:
		err = fmt.Errorf("source %s: no http, s3, file or inline given", src.Name)
	}
	if err != nil {
		cancel()
		return nil, err
	}
	if s.size > s.max {
		_ = s.closeWith(cancel)
		return nil, fmt.Errorf("source %s: %s is %d bytes, over the limit of %d bytes (maxBytes)", s.name, s.location, s.size, s.max)
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

// timeoutError is the cause of a fetch's context when its timeout passes.
type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string { return fmt.Sprintf("timed out after %s", e.d) }

// explainRead turns a read error into words; a passed deadline names the timeout.
func explainRead(err error) error {
	var te *timeoutError
	if errors.As(err, &te) {
		return te
	}
	return lake.Explain(err)
}
