package lake

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/minio/minio-go/v7"

	"github.com/districtlake/districtlake/internal/egress"
	"github.com/districtlake/districtlake/internal/term"
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
		// The server's own message is the response's content: only its code, short and
		// escaped, is quoted.
		if resp.StatusCode != 0 {
			return fmt.Sprintf("the server answered %s (HTTP %d)", short(resp.Code), resp.StatusCode)
		}
		return "the server answered " + short(resp.Code)
	}
	var dns *net.DNSError
	var netErr net.Error
	var refused *egress.RefusedError
	switch {
	case errors.As(err, &refused):
		// The policy's own words: the host, the address and its kind, without the
		// request's method and URL around them.
		return refused.Error()
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
	case errors.Is(err, egress.ErrRefused):
		return short(err.Error())
	case strings.Contains(err.Error(), "malformed HTTP"):
		// net/http quotes the first bytes the server sent; they are the response's content.
		return "the server's answer is not HTTP"
	}
	return short(err.Error())
}

// short makes text from a server or the network fit an error message: escaped, on one
// line, at most 200 bytes.
func short(s string) string {
	const max = 200
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "..."
	}
	return term.Escape(s)
}

// redact replaces every occurrence of secret in err's text, so no error can carry it.
func redact(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &explained{msg: strings.ReplaceAll(err.Error(), secret, "[REDACTED]"), err: errors.New("redacted")}
}
