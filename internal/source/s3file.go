package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
)

func openS3(ctx context.Context, s *Stream, src *plan.S3, env lake.Env) error {
	s.location = fmt.Sprintf("s3://%s/%s", src.Bucket, src.Key)
	if src.Bucket == "" || src.Key == "" {
		return fmt.Errorf("source %s: an s3 source needs a bucket and a key", s.name)
	}
	client, err := lake.S3Client(src.Lake, env)
	if err != nil {
		return fmt.Errorf("source %s: %w", s.name, err)
	}
	where := fmt.Sprintf("%s at %s", s.location, src.Lake.Endpoint)
	obj, err := client.GetObject(ctx, src.Bucket, src.Key, minio.GetObjectOptions{})
	if err != nil {
		return fmt.Errorf("source %s: GET %s: %w", s.name, where, s3Error(ctx, err))
	}
	st, err := obj.Stat()
	if err != nil {
		_ = obj.Close()
		return fmt.Errorf("source %s: GET %s: %w", s.name, where, s3Error(ctx, err))
	}
	s.r = obj
	s.closer = obj.Close
	s.size = st.Size
	s.etag = strings.Trim(st.ETag, `"`)
	return nil
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
