// Package lake is the object store that holds the datasets: an S3-compatible bucket
// (minio-go) or a local folder with the same layout (file://). Objects are published
// atomically: a Writer shows nothing at its key until Commit succeeds, and an aborted or
// failed Writer leaves the object that was there byte-for-byte unchanged.
package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/districtlake/districtlake/internal/egress"
)

// Env looks up an environment variable: os.LookupEnv in a Job, a map in tests and local
// runs.
type Env func(name string) (string, bool)

// OSEnv is the process environment.
func OSEnv() Env { return os.LookupEnv }

// MapEnv looks variables up in m.
func MapEnv(m map[string]string) Env {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// ObjectInfo describes one object. Key is relative to the lake's prefix. SHA256 (hex) is
// known only to the Writer.Commit and Put that wrote the object; Stat and List leave it
// empty. ETag is the S3 ETag (empty in a file lake).
type ObjectInfo struct {
	Key          string
	Size         int64
	ETag         string
	SHA256       string
	LastModified time.Time
}

// Store is a lake: a bucket and prefix, or a local folder. Keys are slash-separated and
// relative to the lake's prefix (such as "staffing/state=WI/school_year=2023-24/
// district=5508520/data.parquet"); they may not be empty, start with a slash or hold "."
// or ".." segments.
type Store interface {
	// Create starts writing an object. Nothing is visible at key until Commit succeeds;
	// Abort (or any error) publishes nothing and leaves an existing object untouched.
	// Several Writers may be open at once. Every Writer must end in Commit or Abort.
	Create(ctx context.Context, key string) (Writer, error)
	// Open opens an object for reading, sequential or ranged (io.ReaderAt, as Parquet
	// readers need). errors.Is(err, ErrNotExist) when the object is missing.
	Open(ctx context.Context, key string) (Object, error)
	// OpenRange streams the n bytes of an object from offset off: one ranged GET in S3,
	// whatever the object's size. errors.Is(err, ErrNotExist) when the object is missing;
	// an object that ends before off+n is an error when read, not a short read.
	OpenRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error)
	// Stat describes an object; errors.Is(err, ErrNotExist) when it is missing.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// List returns every object whose key starts with prefix ("" for all), keys relative
	// to the lake prefix, sorted. Unfinished writes never appear.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// Put writes a small object (a manifest, a report) in one atomic step.
	Put(ctx context.Context, key string, data []byte) (ObjectInfo, error)
	// Sync makes every object published so far durable across a crash of the machine.
	// Publishing is atomic without it; call it before writing an object that names others
	// (a manifest) and at the end of a run. S3 objects are durable once written.
	Sync(ctx context.Context) error
	// URL is "s3://bucket/prefix" or "file:///abs/path": where the lake is, without
	// credentials.
	URL() string
}

// Writer streams one object. It is deliberately not an io.Closer, so that a Parquet
// writer's Close can never publish it: only Commit does.
type Writer interface {
	io.Writer
	// Commit publishes the object and describes it. After an error nothing is published
	// and the previous object at the key (if any) is unchanged.
	Commit() (ObjectInfo, error)
	// Abort discards everything written, giving err as the reason; it publishes nothing.
	// Abort after Commit, or twice, does nothing.
	Abort(err error)
}

// Object is an object opened for reading.
type Object interface {
	io.ReaderAt
	io.ReadSeeker
	io.Closer
	// Size is the object's length in bytes.
	Size() int64
}

// ErrNotExist is returned (wrapped) when an object is missing.
var ErrNotExist = errors.New("object does not exist")

// Option tunes a Store.
type Option func(*options)

type options struct {
	partSize uint64
	maxParts int64
	egress   egress.Policy
}

// WithEgress makes an s3 lake's client connect only to the addresses p allows (by
// default it connects to any).
func WithEgress(p egress.Policy) Option { return func(o *options) { o.egress = p } }

// DefaultPartSize is the part size of multipart uploads to S3: at most one part is
// buffered per open Writer, and an object may be up to 10,000 parts (156 GiB).
const DefaultPartSize = 16 << 20

// DefaultMaxParts is S3's maximum number of parts of one multipart upload.
const DefaultMaxParts = 10000

// WithPartSize sets the part size of S3 multipart uploads (at least 5 MiB).
func WithPartSize(n uint64) Option { return func(o *options) { o.partSize = n } }

// WithMaxParts lowers the number of parts an S3 upload may have (10,000 by default), which
// bounds an object to PartSize x MaxParts bytes. For tests of that limit.
func WithMaxParts(n int64) Option { return func(o *options) { o.maxParts = n } }

// New opens the lake c describes: type "s3" (credentials from the env variables c
// names) or "file".
func New(ctx context.Context, c Config, env Env, opts ...Option) (Store, error) {
	o := options{partSize: DefaultPartSize, maxParts: DefaultMaxParts}
	for _, f := range opts {
		f(&o)
	}
	switch c.Type {
	case TypeS3:
		return newS3(ctx, c, env, o)
	case TypeFile:
		return newFile(c)
	default:
		return nil, fmt.Errorf("lake type %q is not s3 or file", c.Type)
	}
}

// Environment variables ParseURL reads for an s3:// lake.
const (
	EnvS3Endpoint     = "DISTRICTLAKE_S3_ENDPOINT"
	EnvAWSEndpointURL = "AWS_ENDPOINT_URL"
	EnvAccessKeyID    = "AWS_ACCESS_KEY_ID"
	EnvSecretKey      = "AWS_SECRET_ACCESS_KEY"
	EnvRegion         = "AWS_REGION"
	EnvS3Insecure     = "DISTRICTLAKE_S3_INSECURE"
)

// ParseURL turns a lake given on the command line into a Config:
//   - "s3://bucket/prefix": the endpoint comes from DISTRICTLAKE_S3_ENDPOINT or
//     AWS_ENDPOINT_URL (host:port or a URL; s3.amazonaws.com when neither is set), the
//     credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the Config keeps only
//     those names), the region from AWS_REGION, and DISTRICTLAKE_S3_INSECURE=true turns
//     TLS off (an http:// endpoint URL does too). Path-style requests are used for any
//     endpoint but Amazon's.
//   - "file:///abs/path" or a plain path such as "./lake": a local folder, made absolute.
func ParseURL(u string, env Env) (Config, error) {
	if env == nil {
		env = OSEnv()
	}
	switch {
	case u == "":
		return Config{}, errors.New("lake URL is empty")
	case strings.HasPrefix(u, "s3://"):
		return parseS3URL(u, env)
	case strings.HasPrefix(u, "file://"):
		p := strings.TrimPrefix(u, "file://")
		if !strings.HasPrefix(p, "/") {
			return Config{}, fmt.Errorf("lake URL %q: a file URL needs an absolute path (file:///path)", u)
		}
		return fileLake(p)
	case strings.Contains(u, "://"):
		return Config{}, fmt.Errorf("lake URL %q: the scheme is not s3:// or file://", u)
	default:
		return fileLake(u)
	}
}

// CheckBucket checks that a lake's bucket exists and that the credentials may reach it.
// Its errors name the endpoint and bucket and say what is wrong in words (unknown access
// key, wrong secret, no such bucket, connection refused); they never hold the secret.
// It connects to any address; CheckBucketUnder limits it to what an egress policy allows.
func CheckBucket(ctx context.Context, l Config, accessKeyID, secretAccessKey string) error {
	return checkBucket(ctx, l, accessKeyID, secretAccessKey, egress.AllowAll())
}

// CheckBucketUnder returns a CheckBucket that connects only to the addresses p allows:
// the manager's Lake check, which must not send a signed request to whatever internal
// address a Lake names.
func CheckBucketUnder(p egress.Policy) func(ctx context.Context, l Config, accessKeyID, secretAccessKey string) error {
	return func(ctx context.Context, l Config, accessKeyID, secretAccessKey string) error {
		return checkBucket(ctx, l, accessKeyID, secretAccessKey, p)
	}
}

// cleanKey checks a key and returns it in canonical form.
func cleanKey(key string) (string, error) {
	if key == "" {
		return "", errors.New("object key is empty")
	}
	if strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") {
		return "", fmt.Errorf("object key %q may not start or end with a slash", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("object key %q has an empty, \".\" or \"..\" segment", key)
		}
	}
	if path.Clean(key) != key {
		return "", fmt.Errorf("object key %q is not clean", key)
	}
	return key, nil
}

func parseS3URL(u string, env Env) (Config, error) {
	rest := strings.TrimPrefix(u, "s3://")
	bucket, prefix, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return Config{}, fmt.Errorf("lake URL %q names no bucket", u)
	}
	l := Config{
		Type:               TypeS3,
		Bucket:             bucket,
		Prefix:             strings.Trim(prefix, "/"),
		Secure:             true,
		AccessKeyIDEnv:     EnvAccessKeyID,
		SecretAccessKeyEnv: EnvSecretKey,
	}
	l.Region, _ = env(EnvRegion)
	endpoint, ok := env(EnvS3Endpoint)
	if !ok || endpoint == "" {
		endpoint, ok = env(EnvAWSEndpointURL)
	}
	switch {
	case !ok || endpoint == "":
		l.Endpoint = "s3.amazonaws.com"
	case strings.HasPrefix(endpoint, "http://"):
		l.Endpoint, l.Secure = strings.TrimPrefix(endpoint, "http://"), false
	default:
		l.Endpoint = strings.TrimPrefix(endpoint, "https://")
	}
	l.Endpoint = strings.TrimSuffix(l.Endpoint, "/")
	if strings.Contains(l.Endpoint, "/") {
		return Config{}, fmt.Errorf("lake endpoint %q has a path; give host:port or a URL without one", endpoint)
	}
	l.PathStyle = !strings.HasSuffix(l.Endpoint, "amazonaws.com")
	if v, _ := env(EnvS3Insecure); strings.EqualFold(v, "true") || v == "1" {
		l.Secure = false
	}
	return l, nil
}
