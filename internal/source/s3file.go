package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
)

func openS3(ctx context.Context, s *Stream, src *plan.S3, env lake.Env, opts Options) error {
	s.location = fmt.Sprintf("s3://%s/%s", src.Bucket, src.Key)
	if src.Bucket == "" || src.Key == "" {
		return fmt.Errorf("source %s: an s3 source needs a bucket and a key", s.name)
	}
	client, err := lake.S3Client(src.Lake, env, opts.Egress)
	if err != nil {
		return fmt.Errorf("source %s: %w", s.name, err)
	}
	where := fmt.Sprintf("%s at %s", s.location, src.Lake.Endpoint)
	var get minio.GetObjectOptions
	if opts.IfNoneMatch != "" {
		_ = get.SetMatchETagExcept(strings.Trim(opts.IfNoneMatch, `"`))
	}
	if t, err := http.ParseTime(opts.IfModifiedSince); err == nil {
		_ = get.SetModified(t)
	}
	obj, err := client.GetObject(ctx, src.Bucket, src.Key, get)
	if err != nil {
		return fmt.Errorf("source %s: GET %s: %w", s.name, where, s3Error(ctx, err))
	}
	st, err := obj.Stat()
	if err != nil {
		_ = obj.Close()
		if minio.ToErrorResponse(err).StatusCode == http.StatusNotModified {
			return fmt.Errorf("source %s: %s: %w", s.name, s.location, ErrNotModified)
		}
		return fmt.Errorf("source %s: GET %s: %w", s.name, where, s3Error(ctx, err))
	}
	s.lastModified = st.LastModified.UTC().Format(http.TimeFormat)
	s.r = obj
	s.closer = obj.Close
	s.size = st.Size
	s.etag = strings.Trim(st.ETag, `"`)
	return nil
}

// openS3Member reads one member of a ZIP archive in a bucket through ranged GETs, each on
// the condition (If-Match) that the object's ETag is the one its first request saw.
func openS3Member(ctx context.Context, s *Stream, src *plan.S3, env lake.Env, opts Options) error {
	s.location = fmt.Sprintf("s3://%s/%s", src.Bucket, src.Key)
	if src.Bucket == "" || src.Key == "" {
		return fmt.Errorf("source %s: an s3 source needs a bucket and a key", s.name)
	}
	client, err := lake.S3Client(src.Lake, env, opts.Egress)
	if err != nil {
		return fmt.Errorf("source %s: %w", s.name, err)
	}
	where := fmt.Sprintf("%s at %s", s.location, src.Lake.Endpoint)
	st, err := client.StatObject(ctx, src.Bucket, src.Key, minio.StatObjectOptions{})
	if err != nil {
		return fmt.Errorf("source %s: HEAD %s: %w", s.name, where, s3Error(ctx, err))
	}
	if st.Size == 0 {
		return fmt.Errorf("source %s: %s is empty, so it has no member %q", s.name, s.location, s.member)
	}
	s.etag = strings.Trim(st.ETag, `"`)
	s.lastModified = st.LastModified.UTC().Format(http.TimeFormat)
	if unchanged(opts, s.etag, st.LastModified) {
		return fmt.Errorf("source %s: %s: %w", s.name, s.location, ErrNotModified)
	}
	core := minio.Core{Client: client}
	fetch := func(ctx context.Context, off, n int64) (io.ReadCloser, error) {
		var opts minio.GetObjectOptions
		if err := opts.SetRange(off, off+n-1); err != nil {
			return nil, err
		}
		if s.etag != "" {
			if err := opts.SetMatchETag(s.etag); err != nil {
				return nil, err
			}
		}
		body, _, _, err := core.GetObject(ctx, src.Bucket, src.Key, opts)
		if err != nil {
			if minio.ToErrorResponse(err).Code == minio.PreconditionFailed {
				return nil, errors.New("the archive changed while it was read: its ETag is no longer the one first seen; run again")
			}
			return nil, fmt.Errorf("GET %s (bytes %d-%d): %w", where, off, off+n-1, s3Error(ctx, err))
		}
		return body, nil
	}
	ra := newRangeReaderAt(ctx, fetch, st.Size, &s.fetched)
	s.closer = ra.Close
	n := min(st.Size, tailBytes)
	if err := ra.prefetch(st.Size-n, n); err != nil {
		return fmt.Errorf("source %s: reading the end of %s: %w", s.name, where, err)
	}
	if err := openRangedMember(s, ra, ra.tail); err != nil {
		_ = s.Close()
		return err
	}
	return nil
}

// unchanged tells whether an object of this ETag and modification time is the one a
// conditional fetch saw (the ETag decides when both are given, as in HTTP).
func unchanged(opts Options, etag string, modified time.Time) bool {
	if opts.IfNoneMatch != "" {
		return strings.Trim(opts.IfNoneMatch, `"`) == etag
	}
	if t, err := http.ParseTime(opts.IfModifiedSince); err == nil {
		return !modified.Truncate(time.Second).After(t)
	}
	return false
}

func s3Error(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil {
		return explainRead(cause)
	}
	return lake.Explain(err)
}

func openFile(s *Stream, src *plan.File) error {
	s.location = src.Path
	f, err := os.Open(src.Path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("source %s: %s does not exist", s.name, src.Path)
		}
		return fmt.Errorf("source %s: %w", s.name, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("source %s: %w", s.name, err)
	}
	if fi.IsDir() {
		_ = f.Close()
		return fmt.Errorf("source %s: %s is a folder, not a file", s.name, src.Path)
	}
	s.r = f
	s.closer = f.Close
	s.size = fi.Size()
	return nil
}
