package lake_test

import (
	"context"
	"testing"

	"github.com/minio/minio-go/v7/pkg/lifecycle"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/testenv"
)

func TestHasAbortRule(t *testing.T) {
	abort := lifecycle.AbortIncompleteMultipartUpload{DaysAfterInitiation: 1}
	rule := func(status, prefix string, f lifecycle.Filter, a lifecycle.AbortIncompleteMultipartUpload) *lifecycle.Configuration {
		return &lifecycle.Configuration{Rules: []lifecycle.Rule{{ID: "r", Status: status, Prefix: prefix, RuleFilter: f, AbortIncompleteMultipartUpload: a}}}
	}
	cases := []struct {
		name   string
		cfg    *lifecycle.Configuration
		prefix string
		want   bool
	}{
		{name: "no configuration", cfg: nil},
		{name: "no rules", cfg: &lifecycle.Configuration{}},
		{name: "whole bucket", cfg: rule("Enabled", "", lifecycle.Filter{}, abort), prefix: "districtlake", want: true},
		{name: "whole bucket, lake at the root", cfg: rule("Enabled", "", lifecycle.Filter{}, abort), want: true},
		{name: "disabled", cfg: rule("Disabled", "", lifecycle.Filter{}, abort), prefix: "districtlake"},
		{name: "an expiry rule only", cfg: rule("Enabled", "", lifecycle.Filter{}, lifecycle.AbortIncompleteMultipartUpload{}), prefix: "districtlake"},
		{name: "the lake's prefix", cfg: rule("Enabled", "", lifecycle.Filter{Prefix: "districtlake/"}, abort), prefix: "districtlake", want: true},
		{name: "a prefix above the lake's", cfg: rule("Enabled", "", lifecycle.Filter{And: lifecycle.And{Prefix: "district"}}, abort), prefix: "districtlake/wi", want: true},
		{name: "another prefix", cfg: rule("Enabled", "", lifecycle.Filter{Prefix: "logs/"}, abort), prefix: "districtlake"},
		{name: "a prefix, lake at the root", cfg: rule("Enabled", "legacy/", lifecycle.Filter{}, abort)},
		{name: "a tag filter", cfg: rule("Enabled", "", lifecycle.Filter{Tag: lifecycle.Tag{Key: "k", Value: "v"}}, abort), prefix: "districtlake"},
	}
	for _, c := range cases {
		if got := lake.HasAbortRule(c.cfg, c.prefix); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestCheckAbortRuleMinIO: a real MinIO bucket has no lifecycle configuration, so the rule
// is reported missing (MinIO refuses the rule itself and removes stale uploads on its
// own); wrong credentials are an error in words, without the secret.
func TestCheckAbortRuleMinIO(t *testing.T) {
	m := testenv.StartMinIO(t)
	m.CreateBucket(t, "statewide")
	l, _ := m.Lake("statewide", "districtlake")
	ctx := context.Background()
	found, err := lake.CheckAbortRule(ctx, l, m.AccessKey, m.SecretKey)
	if err != nil || found {
		t.Fatalf("CheckAbortRule = %v, %v; want false, nil", found, err)
	}
	_, err = lake.CheckAbortRule(ctx, l, m.AccessKey, "not-the-secret")
	want := `reading the lifecycle rules of bucket "statewide" at http://` + m.Endpoint + ": the secret access key does not match the access key ID (SignatureDoesNotMatch)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v\nwant  %s", err, want)
	}
}
