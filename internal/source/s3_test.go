package source

import (
	"context"
	"strings"
	"testing"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/testenv"
)

func TestS3Source(t *testing.T) {
	m := testenv.StartMinIO(t)
	m.CreateBucket(t, "crdc-files")
	l, env := m.Lake("crdc-files", "")
	store, err := lake.New(context.Background(), l, env)
	if err != nil {
		t.Fatal(err)
	}
	put, err := store.Put(context.Background(), "2020-21/School Support.csv", []byte(csvBody))
	if err != nil {
		t.Fatal(err)
	}
	src := func(key string) plan.Source {
		return plan.Source{Name: "crdc-support", S3: &plan.S3{Lake: l, Bucket: "crdc-files", Key: key}}
	}

	s, got, err := readAll(t, src("2020-21/School Support.csv"), env)
	if err != nil || got != csvBody {
		t.Fatalf("read %q, %v", got, err)
	}
	if s.Size() != int64(len(csvBody)) || s.ETag() != put.ETag || s.ETag() == "" || s.SHA256() != sum(csvBody) ||
		s.Location() != "s3://crdc-files/2020-21/School Support.csv" {
		t.Fatalf("size %d etag %q (put %q) sha %s location %s", s.Size(), s.ETag(), put.ETag, s.SHA256(), s.Location())
	}

	where := "s3://crdc-files/2020-21/School Support.csv at " + m.Endpoint
	const wrongSecret = "wrong-secret-77aa"
	badEnv := lake.MapEnv(map[string]string{plan.EnvLakeAccessKeyID: m.AccessKey, plan.EnvLakeSecretAccessKey: wrongSecret})
	cases := []struct {
		name string
		src  plan.Source
		env  lake.Env
		want string
	}{
		{"bad credentials", src("2020-21/School Support.csv"), badEnv,
			"source crdc-support: GET " + where + ": the secret access key does not match the access key ID (SignatureDoesNotMatch)"},
		{"missing object", src("2020-21/Nope.csv"), env,
			"source crdc-support: GET s3://crdc-files/2020-21/Nope.csv at " + m.Endpoint + ": the object does not exist (NoSuchKey)"},
		{"missing credentials", src("x"), lake.MapEnv(nil),
			"source crdc-support: lake s3://crdc-files: environment variable DISTRICTLAKE_LAKE_ACCESS_KEY_ID (the access key ID) is not set"},
		{"over the limit", withMax(src("2020-21/School Support.csv"), 10), env,
			"source crdc-support: s3://crdc-files/2020-21/School Support.csv is 59 bytes, over the limit of 10 bytes (maxBytes)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(context.Background(), tc.src, tc.env)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v\nwant    %s", err, tc.want)
			}
			if strings.Contains(err.Error(), wrongSecret) || strings.Contains(err.Error(), m.SecretKey) {
				t.Fatal("the error holds a secret")
			}
		})
	}
}
