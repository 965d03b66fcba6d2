package lake

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/minio/minio-go/v7"
)

// OpenRange reads a byte range of a file lake's object with pread (see openRange).
func (s *fileStore) OpenRange(_ context.Context, key string, off, n int64) (io.ReadCloser, error) {
	key, err := rangeKey(key, off, n)
	if err != nil {
		return nil, err
	}
	r, err := openRange(s.path(key), off, n)
	if err != nil {
		return nil, s.fail("opening", key, err)
	}
	return r, nil
}

// OpenRange reads a byte range of an S3 object with one ranged GET; the request is made
// at once, so that a missing object is an error here rather than at the first Read.
func (s *s3Store) OpenRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	key, err := rangeKey(key, off, n)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("s3://%s/%s", s.l.Bucket, s.full(key))
	if n == 0 {
		return io.NopCloser(strings.NewReader("")), nil // a range of no bytes, which S3 cannot ask for
	}
	var opts minio.GetObjectOptions
	if err := opts.SetRange(off, off+n-1); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	obj, err := s.client.GetObject(ctx, s.l.Bucket, s.full(key), opts)
	if err != nil {
		return nil, s.fail("opening", key, err)
	}
	if _, err := obj.Stat(); err != nil {
		_ = obj.Close()
		return nil, s.fail("opening", key, err)
	}
	return &rangeReader{r: io.LimitReader(obj, n), close: obj.Close, left: n, name: name}, nil
}

// rangeKey is the clean form of key, checked with the range off, n asks of it.
func rangeKey(key string, off, n int64) (string, error) {
	key, err := cleanKey(key)
	if err != nil {
		return "", err
	}
	if off < 0 || n < 0 {
		return "", fmt.Errorf("reading %s: bytes %d to %d are not a range", key, off, off+n)
	}
	return key, nil
}

// rangeReader reads exactly left bytes: an end before them is io.ErrUnexpectedEOF, named.
type rangeReader struct {
	r     io.Reader
	close func() error
	left  int64
	name  string
}

func (r *rangeReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.left -= int64(n)
	if err == io.EOF && r.left > 0 {
		return n, fmt.Errorf("reading %s: it ended %d bytes before the range did: %w", r.name, r.left, io.ErrUnexpectedEOF)
	}
	return n, err
}

func (r *rangeReader) Close() error { return r.close() }
