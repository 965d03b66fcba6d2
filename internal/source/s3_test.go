package source

import (
	"context"
	"errors"
	"io"
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

func TestS3ZipMemberRanged(t *testing.T) {
	m := testenv.StartMinIO(t)
	m.CreateBucket(t, "crdc-files")
	l, env := m.Lake("crdc-files", "")
	store, err := lake.New(context.Background(), l, env)
	if err != nil {
		t.Fatal(err)
	}
	archive, support, enrollment := crdcArchive(t)
	put, err := store.Put(context.Background(), "2021-22/2021-22-crdc-data.zip", archive)
	if err != nil {
		t.Fatal(err)
	}
	src := func(member string) plan.Source {
		return plan.Source{Name: "crdc-support", S3: &plan.S3{Lake: l, Bucket: "crdc-files", Key: "2021-22/2021-22-crdc-data.zip", Member: member}}
	}
	for name, want := range map[string][]byte{"SCH/School Support.csv": support, "SCH/Enrollment.csv": enrollment} {
		s, got, err := readAll(t, src(name), env)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) || s.Bytes() != int64(len(want)) || s.Member() != name || s.ETag() != put.ETag {
			t.Fatalf("%s: read %d bytes (want %d), member %q, etag %q (put %q)", name, len(got), len(want), s.Member(), s.ETag(), put.ETag)
		}
		packed := compressedSize(t, archive, name)
		t.Logf("%s: fetched %d bytes of a %d-byte archive (member %d bytes, %d in the archive)", name, s.Fetched(), len(archive), len(want), packed)
		if limit := packed + tailBytes + minBlock + 16; s.Fetched() > limit || s.Fetched() < packed {
			t.Fatalf("%s: fetched %d bytes; want the member's %d and at most %d", name, s.Fetched(), packed, limit)
		}
	}

	_, err = Open(context.Background(), src("SCH/Enrolment.csv"), env)
	want := `source crdc-support: s3://crdc-files/2021-22/2021-22-crdc-data.zip has no member "SCH/Enrolment.csv" (names are exact paths); ` +
		`the closest of its 4 files: "SCH/Enrollment.csv", "SCH/School Support.csv", "LEA/LEA Characteristics.csv", "SCH/Harassment and Bullying.csv"`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
	missing := src("SCH/Enrollment.csv")
	missing.S3.Key = "2021-22/nope.zip"
	_, err = Open(context.Background(), missing, env)
	want = "source crdc-support: HEAD s3://crdc-files/2021-22/nope.zip at " + m.Endpoint + ": the object does not exist (NoSuchKey)"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
}

// TestS3ConditionalFetch: an object whose ETag (or modification time) a previous fetch saw
// is not fetched again, as a file or as an archive.
func TestS3ConditionalFetch(t *testing.T) {
	m := testenv.StartMinIO(t)
	m.CreateBucket(t, "crdc-files")
	l, env := m.Lake("crdc-files", "")
	store, err := lake.New(context.Background(), l, env)
	if err != nil {
		t.Fatal(err)
	}
	archive, support, _ := crdcArchive(t)
	if _, err := store.Put(context.Background(), "support.csv", support); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Put(context.Background(), "crdc.zip", archive); err != nil {
		t.Fatal(err)
	}
	for _, src := range []plan.Source{
		{Name: "crdc-support", S3: &plan.S3{Lake: l, Bucket: "crdc-files", Key: "support.csv"}},
		{Name: "crdc-support", S3: &plan.S3{Lake: l, Bucket: "crdc-files", Key: "crdc.zip", Member: "SCH/School Support.csv"}},
	} {
		first, got, err := readAll(t, src, env)
		if err != nil || got != string(support) || first.ETag() == "" || first.LastModified() == "" {
			t.Fatalf("%s: first fetch: %d bytes, %v, etag %q, last-modified %q", src.S3.Key, len(got), err, first.ETag(), first.LastModified())
		}
		for _, seen := range []Options{{IfNoneMatch: first.ETag()}, {IfModifiedSince: first.LastModified()}} {
			_, err := OpenWith(context.Background(), src, env, seen)
			want := "source crdc-support: s3://crdc-files/" + src.S3.Key + ": not modified since the last fetch"
			if !errors.Is(err, ErrNotModified) || err.Error() != want {
				t.Fatalf("%+v: error = %v\nwant    %s", seen, err, want)
			}
		}
		s, err := OpenWith(context.Background(), src, env, Options{IfNoneMatch: "0123456789abcdef0123456789abcdef"})
		if err != nil {
			t.Fatalf("%s: another ETag: %v", src.S3.Key, err)
		}
		b, err := io.ReadAll(s)
		_ = s.Close()
		if err != nil || string(b) != string(support) {
			t.Fatalf("%s: another ETag: read %d bytes, %v", src.S3.Key, len(b), err)
		}
	}
}
