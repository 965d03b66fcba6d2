package lake

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/minio/minio-go/v7"
)

// explained is an S3 or network error said in words; it unwraps to the original (and to
// ErrNotExist for a missing object or bucket key).
type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() []error {
	if e.isNotExist() {
		return []error{e.err, ErrNotExist}
	}
	return []error{e.err}
}

func (e *explained) isNotExist() bool {
	code := minio.ToErrorResponse(e.err).Code
	return code == minio.NoSuchKey || code == "NotFound"
}

// Explain says an S3 or network error in words an operator can act on: an unknown access
// key, a wrong secret, a missing bucket or object, a refused connection, a timeout. The
// S3 error code follows in parentheses. A missing object unwraps to ErrNotExist.
func Explain(err error) error {
	if err == nil {
		return nil
	}
	var already *explained
	if errors.As(err, &already) {
		return err
	}
	return &explained{msg: explainText(err), err: err}
}

func explainText(err error) string {
	if resp := minio.ToErrorResponse(err); resp.Code != "" {
		switch resp.Code {
		case "InvalidAccessKeyId":
			return "the access key ID is not known to the server (InvalidAccessKeyId)"
		case "SignatureDoesNotMatch":
			return "the secret access key does not match the access key ID (SignatureDoesNotMatch)"
		case "AccessDenied":
			return "access denied: the credentials may not do this (AccessDenied)"
		case minio.NoSuchBucket:
			return "the bucket does not exist (NoSuchBucket)"
		case minio.NoSuchKey, "NotFound":
			return "the object does not exist (" + resp.Code + ")"
		}
		if resp.Message != "" {
			return fmt.Sprintf("%s (%s)", strings.TrimSuffix(resp.Message, "."), resp.Code)
		}
		return resp.Code
	}
	var dns *net.DNSError
	var netErr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "the connection was reset by the server"
	case errors.As(err, &dns):
		return fmt.Sprintf("host %q not found", dns.Name)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return err.Error()
}

// redact replaces every occurrence of secret in err's text, so no error can carry it.
func redact(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &explained{msg: strings.ReplaceAll(err.Error(), secret, "[REDACTED]"), err: errors.New("redacted")}
}
