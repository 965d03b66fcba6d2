package lake

import (
	"errors"
	"fmt"
)

// Types of lake.
const (
	// TypeS3 is an S3-compatible bucket.
	TypeS3 = "s3"
	// TypeFile is a local folder with the same layout (for runs without a cluster).
	TypeFile = "file"
)

// Config says where a lake is and how to reach it. It is part of the run plans (as JSON),
// so it never holds a secret: only the names of the environment variables that carry the
// credentials.
type Config struct {
	// Type is TypeS3 or TypeFile.
	Type      string `json:"type"`
	Endpoint  string `json:"endpoint,omitempty"`
	Bucket    string `json:"bucket,omitempty"`
	Prefix    string `json:"prefix,omitempty"`
	Region    string `json:"region,omitempty"`
	Secure    bool   `json:"secure,omitempty"`
	PathStyle bool   `json:"pathStyle,omitempty"`
	// Path is the lake's root folder when Type is TypeFile.
	Path string `json:"path,omitempty"`
	// AccessKeyIDEnv and SecretAccessKeyEnv name the environment variables holding the
	// credentials.
	AccessKeyIDEnv     string `json:"accessKeyIDEnv,omitempty"`
	SecretAccessKeyEnv string `json:"secretAccessKeyEnv,omitempty"`
}

// Validate checks that the configuration names a lake: an s3 lake needs an endpoint and a
// bucket, a file lake a path.
func (c Config) Validate() error {
	switch c.Type {
	case TypeS3:
		if c.Endpoint == "" || c.Bucket == "" {
			return errors.New("an s3 lake needs an endpoint and a bucket")
		}
	case TypeFile:
		if c.Path == "" {
			return errors.New("a file lake needs a path")
		}
	default:
		return fmt.Errorf("type %q is not s3 or file", c.Type)
	}
	return nil
}
