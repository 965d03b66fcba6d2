package lake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/districtlake/districtlake/internal/egress"
)

// defaultRegion is used when a lake names none, so that no region lookup is needed.
const defaultRegion = "us-east-1"

// s3Store is a lake in an S3-compatible bucket.
type s3Store struct {
	l      Config
	client *minio.Client
	opts   options
}

func newS3(_ context.Context, l Config, env Env, o options) (*s3Store, error) {
	if l.Bucket == "" {
		return nil, fmt.Errorf("lake at endpoint %s: no bucket given", l.Endpoint)
	}
	id, secret, err := Credentials(l, env)
	if err != nil {
		return nil, err
	}
	if o.partSize < 5<<20 {
		return nil, fmt.Errorf("lake %s: part size %d is below S3's minimum of 5 MiB", s3URL(l), o.partSize)
	}
	c, err := newClient(l, id, secret, &minio.UploadLimits{MaxPartsCount: o.maxParts}, 0, o.egress)
	if err != nil {
		return nil, err
	}
	l.Prefix = strings.Trim(l.Prefix, "/")
	return &s3Store{l: l, client: c, opts: o}, nil
}

// Credentials reads a lake's access key ID and secret from the environment
// variables it names. Its errors name the variable, never a value.
func Credentials(l Config, env Env) (accessKeyID, secretAccessKey string, err error) {
	if env == nil {
		env = OSEnv()
	}
	get := func(what, name string) (string, error) {
		if name == "" {
			return "", fmt.Errorf("lake %s: the configuration names no environment variable for the %s", s3URL(l), what)
		}
		v, ok := env(name)
		if !ok || v == "" {
			return "", fmt.Errorf("lake %s: environment variable %s (the %s) is not set", s3URL(l), name, what)
		}
		return v, nil
	}
	if accessKeyID, err = get("access key ID", l.AccessKeyIDEnv); err != nil {
		return "", "", err
	}
	if secretAccessKey, err = get("secret access key", l.SecretAccessKeyEnv); err != nil {
		return "", "", err
	}
	return accessKeyID, secretAccessKey, nil
}

// S3Client connects to a lake's endpoint with the credentials from env (for readers
// of other buckets, such as an s3 source), dialling only the addresses the egress policy
// allows. It does not touch the network.
func S3Client(l Config, env Env, p egress.Policy) (*minio.Client, error) {
	id, secret, err := Credentials(l, env)
	if err != nil {
		return nil, err
	}
	return newClient(l, id, secret, nil, 0, p)
}

// newClient connects to a lake's endpoint. maxRetries 0 keeps minio-go's default (10
// tries with backoff); 1 tries once. The client dials only what p allows.
func newClient(l Config, id, secret string, limits *minio.UploadLimits, maxRetries int, p egress.Policy) (*minio.Client, error) {
	if l.Endpoint == "" {
		return nil, fmt.Errorf("lake s3://%s: no endpoint given", l.Bucket)
	}
	var transport http.RoundTripper
	if p.DenyPrivate {
		base, err := minio.DefaultTransport(l.Secure)
		if err != nil {
			return nil, fmt.Errorf("lake endpoint %q: %w", l.Endpoint, err)
		}
		tr, err := p.Transport(base)
		if err != nil {
			return nil, err
		}
		transport = tr
	}
	region := l.Region
	if region == "" {
		region = defaultRegion
	}
	lookup := minio.BucketLookupDNS
	if l.PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(l.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(id, secret, ""),
		Secure:       l.Secure,
		Region:       region,
		BucketLookup: lookup,
		UploadLimits: limits,
		MaxRetries:   maxRetries,
		Transport:    transport,
	})
	if err != nil {
		return nil, fmt.Errorf("lake endpoint %q: %w", l.Endpoint, redact(err, secret))
	}
	return c, nil
}

func checkBucket(ctx context.Context, l Config, id, secret string, p egress.Policy) error {
	where := fmt.Sprintf("bucket %q at %s", l.Bucket, endpointURL(l))
	if id == "" || secret == "" {
		return fmt.Errorf("%s: the credentials Secret has an empty accessKeyID or secretAccessKey", where)
	}
	// One try: the Lake controller requeues with its own backoff.
	c, err := newClient(l, id, secret, nil, 1, p)
	if err != nil {
		return err
	}
	ok, err := c.BucketExists(ctx, l.Bucket)
	if err != nil {
		return fmt.Errorf("%s: %w", where, Explain(redact(err, secret)))
	}
	if !ok {
		return fmt.Errorf("%s: the bucket does not exist (NoSuchBucket)", where)
	}
	return nil
}

// s3URL is the lake's address without credentials.
func s3URL(l Config) string {
	u := "s3://" + l.Bucket
	if p := strings.Trim(l.Prefix, "/"); p != "" {
		u += "/" + p
	}
	return u
}

func endpointURL(l Config) string {
	if l.Secure {
		return "https://" + l.Endpoint
	}
	return "http://" + l.Endpoint
}

func (s *s3Store) URL() string { return s3URL(s.l) }

// Sync does nothing: S3 has an object once its PUT or multipart completion succeeded.
func (s *s3Store) Sync(context.Context) error { return nil }

// full is the bucket key of a lake key.
func (s *s3Store) full(key string) string {
	if s.l.Prefix == "" {
		return key
	}
	return s.l.Prefix + "/" + key
}

// fail wraps an error of an operation on key with where it happened, in words.
func (s *s3Store) fail(op, key string, err error) error {
	return fmt.Errorf("%s s3://%s/%s at %s: %w", op, s.l.Bucket, s.full(key), endpointURL(s.l), Explain(err))
}

func (s *s3Store) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	key, err := cleanKey(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	oi, err := s.client.StatObject(ctx, s.l.Bucket, s.full(key), minio.StatObjectOptions{})
	if err != nil {
		return ObjectInfo{}, s.fail("stat", key, err)
	}
	return s.info(key, oi), nil
}

func (s *s3Store) info(key string, oi minio.ObjectInfo) ObjectInfo {
	return ObjectInfo{Key: key, Size: oi.Size, ETag: strings.Trim(oi.ETag, `"`), LastModified: oi.LastModified.UTC()}
}

func (s *s3Store) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	full := s.l.Prefix
	if full != "" {
		full += "/"
	}
	full += prefix
	var out []ObjectInfo
	for oi := range s.client.ListObjects(ctx, s.l.Bucket, minio.ListObjectsOptions{Prefix: full, Recursive: true}) {
		if oi.Err != nil {
			return nil, fmt.Errorf("listing s3://%s/%s at %s: %w", s.l.Bucket, full, endpointURL(s.l), Explain(oi.Err))
		}
		key := oi.Key
		if s.l.Prefix != "" {
			key = strings.TrimPrefix(key, s.l.Prefix+"/")
		}
		out = append(out, s.info(key, oi))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (s *s3Store) Open(ctx context.Context, key string) (Object, error) {
	key, err := cleanKey(key)
	if err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.l.Bucket, s.full(key), minio.GetObjectOptions{})
	if err != nil {
		return nil, s.fail("opening", key, err)
	}
	st, err := obj.Stat()
	if err != nil {
		_ = obj.Close()
		return nil, s.fail("opening", key, err)
	}
	return &s3Object{Object: obj, size: st.Size}, nil
}

type s3Object struct {
	*minio.Object
	size int64
}

func (o *s3Object) Size() int64 { return o.size }

func (s *s3Store) Put(ctx context.Context, key string, data []byte) (ObjectInfo, error) {
	key, err := cleanKey(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	ui, err := s.client.PutObject(ctx, s.l.Bucket, s.full(key), bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: contentType(key), DisableMultipart: true})
	if err != nil {
		return ObjectInfo{}, s.fail("writing", key, err)
	}
	sum := sha256.Sum256(data)
	return ObjectInfo{Key: key, Size: ui.Size, ETag: strings.Trim(ui.ETag, `"`),
		SHA256: hex.EncodeToString(sum[:]), LastModified: ui.LastModified.UTC()}, nil
}

func contentType(key string) string {
	switch path.Ext(key) {
	case ".json":
		return "application/json"
	case ".html":
		return "text/html; charset=utf-8"
	case ".parquet":
		return "application/vnd.apache.parquet"
	default:
		return "application/octet-stream"
	}
}

// Create starts a multipart upload fed through a pipe: PutObject reads what Write writes,
// one part at a time. Commit closes the pipe so the upload completes; Abort closes it
// with an error so minio-go aborts the multipart upload and nothing is published.
func (s *s3Store) Create(ctx context.Context, key string) (Writer, error) {
	key, err := cleanKey(key)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	w := &s3Writer{
		s: s, key: key, pw: pw, cancel: cancel,
		hash:  sha256.New(),
		limit: int64(s.opts.partSize) * s.opts.maxParts,
		done:  make(chan struct{}),
	}
	go w.upload(ctx, pr)
	return w, nil
}

type s3Writer struct {
	s      *s3Store
	key    string
	pw     *io.PipeWriter
	cancel context.CancelFunc
	hash   hash.Hash
	n      int64
	limit  int64

	done      chan struct{}
	uploaded  minio.UploadInfo
	uploadErr error

	mu     sync.Mutex
	failed error // the first Write error; Commit returns it
	ended  bool  // Commit or Abort was called
}

// errUploadEnded ends the pipe's reading side when PutObject returns, so that a Write
// never blocks on an upload that is over.
var errUploadEnded = errors.New("the upload has already ended")

func (w *s3Writer) upload(ctx context.Context, pr *io.PipeReader) {
	defer close(w.done)
	w.uploaded, w.uploadErr = w.s.client.PutObject(ctx, w.s.l.Bucket, w.s.full(w.key), pr, -1,
		minio.PutObjectOptions{PartSize: w.s.opts.partSize, ContentType: contentType(w.key)})
	if w.uploadErr != nil {
		pr.CloseWithError(w.uploadErr)
		return
	}
	pr.CloseWithError(errUploadEnded)
}

func (w *s3Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return 0, fmt.Errorf("writing s3://%s/%s: the writer was already committed or aborted", w.s.l.Bucket, w.s.full(w.key))
	}
	if w.failed != nil {
		return 0, w.failed
	}
	if w.n+int64(len(p)) > w.limit {
		w.failed = fmt.Errorf("writing s3://%s/%s: the object would be over %d bytes, the most an upload of %d parts of %d bytes can hold",
			w.s.l.Bucket, w.s.full(w.key), w.limit, w.s.opts.maxParts, w.s.opts.partSize)
		w.pw.CloseWithError(abortError{w.failed})
		return 0, w.failed
	}
	n, err := w.pw.Write(p)
	w.hash.Write(p[:n])
	w.n += int64(n)
	if err != nil {
		<-w.done
		cause := w.uploadErr
		if cause == nil {
			cause = err
		}
		w.failed = w.s.fail("uploading", w.key, cause)
		return n, w.failed
	}
	return n, nil
}

func (w *s3Writer) Commit() (ObjectInfo, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return ObjectInfo{}, fmt.Errorf("committing s3://%s/%s: the writer was already committed or aborted", w.s.l.Bucket, w.s.full(w.key))
	}
	w.ended = true
	defer w.cancel()
	if w.failed != nil {
		w.pw.CloseWithError(abortError{w.failed})
		<-w.done
		return ObjectInfo{}, w.failed
	}
	_ = w.pw.Close()
	<-w.done
	if w.uploadErr != nil {
		return ObjectInfo{}, w.s.fail("uploading", w.key, w.uploadErr)
	}
	if w.uploaded.Size != w.n {
		// Unreachable while Write enforces the limit; never leave a truncated object.
		rmErr := w.s.client.RemoveObject(context.Background(), w.s.l.Bucket, w.s.full(w.key), minio.RemoveObjectOptions{})
		return ObjectInfo{}, fmt.Errorf("uploading s3://%s/%s: the server stored %d bytes of the %d written; the object was removed (remove error: %v)",
			w.s.l.Bucket, w.s.full(w.key), w.uploaded.Size, w.n, rmErr)
	}
	return ObjectInfo{
		Key:          w.key,
		Size:         w.n,
		ETag:         strings.Trim(w.uploaded.ETag, `"`),
		SHA256:       hex.EncodeToString(w.hash.Sum(nil)),
		LastModified: w.uploaded.LastModified.UTC(),
	}, nil
}

func (w *s3Writer) Abort(reason error) {
	if reason == nil {
		reason = errors.New("aborted")
	}
	// Close the pipe before taking the lock, so that a Write blocked in another goroutine
	// returns at once. After a Commit closed the pipe this does nothing.
	w.pw.CloseWithError(abortError{reason})
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return
	}
	w.ended = true
	<-w.done
	w.cancel()
}

// abortError is what the upload reads when a Writer is aborted. It is never io.EOF (which
// would complete the upload with the bytes so far), even when the reason is.
type abortError struct{ reason error }

func (e abortError) Error() string { return "upload aborted: " + e.reason.Error() }
func (e abortError) Unwrap() error { return e.reason }
