package lake

import (
	"context"
	"fmt"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/lifecycle"

	"github.com/districtlake/districtlake/internal/egress"
)

// AbortRuleCommand is the command that gives bucket a lifecycle rule aborting incomplete
// multipart uploads one day after they start (the README shows the same).
func AbortRuleCommand(bucket string) string {
	return "aws s3api put-bucket-lifecycle-configuration --bucket " + bucket + ` --lifecycle-configuration '{"Rules":[{"ID":"abort-incomplete-uploads","Status":"Enabled","Filter":{"Prefix":""},"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":1}}]}'`
}

// CheckAbortRule says whether the lake's bucket has an enabled lifecycle rule that aborts
// incomplete multipart uploads under the lake's prefix (a run killed mid-upload leaves
// its parts, billed, until one does). A bucket without any lifecycle configuration has no
// such rule; other errors (such as AccessDenied) say why the rules could not be read, in
// the words of Explain and without the secret. It connects to any address;
// CheckAbortRuleUnder limits it to what an egress policy allows.
func CheckAbortRule(ctx context.Context, l Config, accessKeyID, secretAccessKey string) (bool, error) {
	return checkAbortRule(ctx, l, accessKeyID, secretAccessKey, egress.AllowAll())
}

// CheckAbortRuleUnder returns a CheckAbortRule that connects only to the addresses p
// allows (the manager's Lake check).
func CheckAbortRuleUnder(p egress.Policy) func(ctx context.Context, l Config, accessKeyID, secretAccessKey string) (bool, error) {
	return func(ctx context.Context, l Config, accessKeyID, secretAccessKey string) (bool, error) {
		return checkAbortRule(ctx, l, accessKeyID, secretAccessKey, p)
	}
}

func checkAbortRule(ctx context.Context, l Config, id, secret string, p egress.Policy) (bool, error) {
	c, err := newClient(l, id, secret, nil, 1, p)
	if err != nil {
		return false, err
	}
	cfg, err := c.GetBucketLifecycle(ctx, l.Bucket)
	if err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchLifecycleConfiguration" {
			return false, nil
		}
		return false, fmt.Errorf("reading the lifecycle rules of bucket %q at %s: %w", l.Bucket, endpointURL(l), Explain(redact(err, secret)))
	}
	return HasAbortRule(cfg, l.Prefix), nil
}

// HasAbortRule says whether cfg has an enabled rule that aborts incomplete multipart
// uploads of every key under prefix: no filter, or a prefix filter (alone or with
// others in And) that prefix starts with, and no tag or size filter.
func HasAbortRule(cfg *lifecycle.Configuration, prefix string) bool {
	if cfg == nil {
		return false
	}
	// Every key of the lake starts with keys.
	keys := strings.Trim(prefix, "/")
	if keys != "" {
		keys += "/"
	}
	for _, r := range cfg.Rules {
		if r.Status != "Enabled" || r.AbortIncompleteMultipartUpload.IsDaysNull() {
			continue
		}
		f := r.RuleFilter
		if !f.Tag.IsEmpty() || len(f.And.Tags) > 0 || f.ObjectSizeLessThan != 0 || f.ObjectSizeGreaterThan != 0 ||
			f.And.ObjectSizeLessThan != 0 || f.And.ObjectSizeGreaterThan != 0 {
			continue
		}
		if strings.HasPrefix(keys, r.Prefix) && strings.HasPrefix(keys, f.Prefix) && strings.HasPrefix(keys, f.And.Prefix) {
			return true
		}
	}
	return false
}
