package lake_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/districtlake/districtlake/internal/egress"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/testenv"
)

const mib = 1 << 20

// incompleteUploads lists the multipart uploads left open in a bucket.
func incompleteUploads(t *testing.T, m *testenv.MinIO, bucket string) []string {
	t.Helper()
	var out []string
	for u := range m.Client(t).ListIncompleteUploads(context.Background(), bucket, "", true) {
		if u.Err != nil {
			t.Fatalf("listing incomplete uploads: %v", u.Err)
		}
		out = append(out, u.Key)
	}
	return out
}

func TestS3URLAndPrefix(t *testing.T) {
	m := testenv.StartMinIO(t)
	m.CreateBucket(t, "statewide")
	l, env := m.Lake("statewide", "districtlake/v1")
	s, err := lake.New(context.Background(), l, env)
	if err != nil {
		t.Fatal(err)
	}
	if s.URL() != "s3://statewide/districtlake/v1" {
		t.Fatalf("URL %s", s.URL())
	}
	write(t, s, staffingKey, []byte("x"))
	// The object sits under the prefix in the bucket; keys in the API are relative.
	st, err := m.Client(t).StatObject(context.Background(), "statewide", "districtlake/v1/"+staffingKey, minio.StatObjectOptions{})
	if err != nil || st.Size != 1 {
		t.Fatalf("bucket object: %+v %v", st, err)
	}
	if st.ContentType != "application/vnd.apache.parquet" {
		t.Fatalf("content type %s", st.ContentType)
	}
	got, err := s.List(context.Background(), "staffing/")
	if err != nil || len(got) != 1 || got[0].Key != staffingKey || got[0].ETag == "" {
		t.Fatalf("List %+v %v", got, err)
	}
}

// A multipart upload completes only on Commit; Abort aborts it on the server.
func TestS3Multipart(t *testing.T) {
	m := testenv.StartMinIO(t)
	s := newS3(t, m, "parts", "p", lake.WithPartSize(5*mib))
	bucket := strings.Split(s.URL(), "/")[2]
	ctx := context.Background()

	data := randomBytes(t, 12*mib+3)
	info := write(t, s, "big.bin", data)
	if !strings.HasSuffix(info.ETag, "-3") {
		t.Fatalf("ETag %q is not that of a 3-part upload", info.ETag)
	}
	if info.SHA256 != hexSum(data) || !bytes.Equal(read(t, s, "big.bin"), data) {
		t.Fatal("the multipart object differs")
	}

	w, err := s.Create(ctx, "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(randomBytes(t, 11*mib)); err != nil { // two parts sent
		t.Fatal(err)
	}
	if up := incompleteUploads(t, m, bucket); len(up) != 1 || up[0] != "p/big.bin" {
		t.Fatalf("uploads in progress: %v", up)
	}
	w.Abort(errors.New("row 7: bad value"))
	if up := incompleteUploads(t, m, bucket); len(up) != 0 {
		t.Fatalf("Abort left the multipart upload open: %v", up)
	}
	if !bytes.Equal(read(t, s, "big.bin"), data) {
		t.Fatal("Abort changed the published object")
	}
}

// The client refuses to write past PartSize x MaxParts instead of publishing a cut file.
func TestS3SizeLimit(t *testing.T) {
	m := testenv.StartMinIO(t)
	s := newS3(t, m, "limit", "", lake.WithPartSize(5*mib), lake.WithMaxParts(2))
	bucket := strings.Split(s.URL(), "/")[2]
	old := []byte("the old file")
	write(t, s, "f.parquet", old)

	w, err := s.Create(context.Background(), "f.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(randomBytes(t, 10*mib)); err != nil {
		t.Fatal(err)
	}
	_, err = w.Write([]byte{1})
	want := "writing s3://" + bucket + "/f.parquet: the object would be over 10485760 bytes, the most an upload of 2 parts of 5242880 bytes can hold"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
	if _, err := w.Commit(); err == nil || err.Error() != want {
		t.Fatalf("Commit error = %v", err)
	}
	if !bytes.Equal(read(t, s, "f.parquet"), old) {
		t.Fatal("the old object changed")
	}
	if up := incompleteUploads(t, m, bucket); len(up) != 0 {
		t.Fatalf("uploads left open: %v", up)
	}
	// Exactly the limit is fine.
	data := randomBytes(t, 10*mib)
	if info := write(t, s, "f.parquet", data); info.Size != 10*mib || !bytes.Equal(read(t, s, "f.parquet"), data) {
		t.Fatalf("a file of exactly the limit: %+v", info)
	}
}

func TestS3BadCredentials(t *testing.T) {
	m := testenv.StartMinIO(t)
	m.CreateBucket(t, "statewide")
	l, _ := m.Lake("statewide", "")
	ctx := context.Background()
	const wrongSecret = "not-the-secret-8d1e"
	where := "s3://statewide/" + staffingKey + " at http://" + m.Endpoint

	cases := []struct {
		name, id, secret, want string
	}{
		{"wrong secret", m.AccessKey, wrongSecret, "the secret access key does not match the access key ID (SignatureDoesNotMatch)"},
		{"unknown access key", "nobody", wrongSecret, "the access key ID is not known to the server (InvalidAccessKeyId)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := lake.MapEnv(map[string]string{plan.EnvLakeAccessKeyID: tc.id, plan.EnvLakeSecretAccessKey: tc.secret})
			s, err := lake.New(ctx, l, env)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Stat(ctx, staffingKey)
			if want := "stat " + where + ": " + tc.want; err == nil || err.Error() != want {
				t.Fatalf("Stat error = %v\nwant         %s", err, want)
			}
			w, err := s.Create(ctx, staffingKey)
			if err != nil {
				t.Fatal(err)
			}
			_, werr := w.Write([]byte("data"))
			_, err = w.Commit()
			if want := "uploading " + where + ": " + tc.want; err == nil || err.Error() != want {
				t.Fatalf("Commit error = %v (write error %v)\nwant           %s", err, werr, want)
			}
			err = lake.CheckBucket(ctx, l, tc.id, tc.secret)
			if want := `bucket "statewide" at http://` + m.Endpoint + ": " + tc.want; err == nil || err.Error() != want {
				t.Fatalf("CheckBucket error = %v\nwant                %s", err, want)
			}
			if strings.Contains(fmt.Sprintf("%v %+v", err, err), wrongSecret) {
				t.Fatal("the error holds the secret")
			}
		})
	}

	t.Run("missing env", func(t *testing.T) {
		_, err := lake.New(ctx, l, lake.MapEnv(map[string]string{plan.EnvLakeAccessKeyID: "x"}))
		want := "lake s3://statewide: environment variable DISTRICTLAKE_LAKE_SECRET_ACCESS_KEY (the secret access key) is not set"
		if err == nil || err.Error() != want {
			t.Fatalf("error = %v\nwant    %s", err, want)
		}
	})
	t.Run("good credentials", func(t *testing.T) {
		if err := lake.CheckBucket(ctx, l, m.AccessKey, m.SecretKey); err != nil {
			t.Fatal(err)
		}
	})
	// The manager checks Lakes under the cluster's egress policy: a Lake naming a loopback
	// endpoint gets no signed request unless the admin allows it, and the error is the same
	// whether a server listens there or not.
	t.Run("egress policy", func(t *testing.T) {
		check := lake.CheckBucketUnder(egress.Restricted(nil, nil))
		err := check(ctx, l, m.AccessKey, m.SecretKey)
		if !errors.Is(err, egress.ErrRefused) || !strings.Contains(err.Error(), "a loopback address") {
			t.Fatalf("error = %v, want refused by the egress policy", err)
		}
		closed := l
		closed.Endpoint = closedAddr(t)
		err2 := check(ctx, closed, m.AccessKey, m.SecretKey)
		strip := func(e error, endpoint string) string {
			return strings.ReplaceAll(strings.ReplaceAll(e.Error(), endpoint, "ENDPOINT"), strings.Split(endpoint, ":")[1], "PORT")
		}
		if err2 == nil || strip(err, m.Endpoint) != strip(err2, closed.Endpoint) {
			t.Fatalf("open port: %v\nclosed port: %v\nwant the same refusal", err, err2)
		}
		if err := lake.CheckBucketUnder(egress.Restricted([]string{"127.0.0.1/32"}, nil))(ctx, l, m.AccessKey, m.SecretKey); err != nil {
			t.Fatalf("allowed by CIDR: %v", err)
		}
		if err := lake.CheckBucketUnder(egress.AllowAll())(ctx, l, m.AccessKey, m.SecretKey); err != nil {
			t.Fatalf("allow all: %v", err)
		}
		// A Job's own lake client obeys the plan's policy too.
		_, env := m.Lake("statewide", "")
		s, err := lake.New(ctx, l, env, lake.WithEgress(egress.Restricted(nil, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stat(ctx, staffingKey); !errors.Is(err, egress.ErrRefused) {
			t.Fatalf("Stat under the cluster default: %v, want refused", err)
		}
	})
	t.Run("no such bucket", func(t *testing.T) {
		nb := l
		nb.Bucket = "nope"
		err := lake.CheckBucket(ctx, nb, m.AccessKey, m.SecretKey)
		want := `bucket "nope" at http://` + m.Endpoint + ": the bucket does not exist (NoSuchBucket)"
		if err == nil || err.Error() != want {
			t.Fatalf("error = %v\nwant    %s", err, want)
		}
		_, env := m.Lake("nope", "")
		s, err := lake.New(ctx, nb, env)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := s.Create(ctx, "k")
		_, _ = w.Write([]byte("x"))
		_, err = w.Commit()
		want = "uploading s3://nope/k at http://" + m.Endpoint + ": the bucket does not exist (NoSuchBucket)"
		if err == nil || err.Error() != want {
			t.Fatalf("Commit error = %v\nwant           %s", err, want)
		}
	})
}

func TestS3ConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	l := lake.Config{Type: lake.TypeS3, Endpoint: addr, Bucket: "statewide", PathStyle: true,
		AccessKeyIDEnv: "ID", SecretAccessKeyEnv: "SECRET"}
	env := lake.MapEnv(map[string]string{"ID": "id", "SECRET": "secret-value"})
	ctx := context.Background()

	start := time.Now()
	err = lake.CheckBucket(ctx, l, "id", "secret-value")
	want := `bucket "statewide" at http://` + addr + ": connection refused"
	if err == nil || err.Error() != want {
		t.Fatalf("CheckBucket error = %v\nwant                %s", err, want)
	}
	t.Logf("CheckBucket gave up after %s", time.Since(start))

	s, err := lake.New(ctx, l, env)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Create(ctx, "_runs/r.json")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("{}"))
	_, err = w.Commit()
	want = "uploading s3://statewide/_runs/r.json at http://" + addr + ": connection refused"
	if err == nil || err.Error() != want {
		t.Fatalf("Commit error = %v\nwant           %s", err, want)
	}
}

// FAULT: the object store dies in the middle of a multipart upload. Commit fails, the
// final key keeps its old object, and after a restart a re-run publishes the whole file.
func TestS3KilledMidUpload(t *testing.T) {
	m := testenv.StartMinIO(t)
	m.CreateBucket(t, "statewide")
	l, env := m.Lake("statewide", "districtlake")
	ctx := context.Background()
	s, err := lake.New(ctx, l, env, lake.WithPartSize(5*mib))
	if err != nil {
		t.Fatal(err)
	}
	old := randomBytes(t, 3*mib)
	write(t, s, staffingKey, old)
	data := randomBytes(t, 40*mib)

	w, err := s.Create(ctx, staffingKey)
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	for off := 0; off < len(data) && werr == nil; off += mib {
		if off == 15*mib { // parts 1 and 2 are on the server, part 3 is being read
			if up := incompleteUploads(t, m, "statewide"); len(up) != 1 {
				t.Fatalf("uploads in progress before the kill: %v", up)
			}
			m.Kill()
		}
		_, werr = w.Write(data[off : off+mib])
	}
	_, err = w.Commit()
	if err == nil {
		t.Fatal("Commit succeeded with the server killed")
	}
	want := "uploading s3://statewide/districtlake/" + staffingKey + " at http://" + m.Endpoint + ": connection refused"
	if err.Error() != want {
		t.Fatalf("Commit error = %v\nwant           %s", err, want)
	}
	t.Logf("write error: %v", werr)

	m.Restart(t)
	if got := read(t, s, staffingKey); !bytes.Equal(got, old) {
		t.Fatalf("after the crash the key holds %d bytes, not the old object", len(got))
	}
	objs, err := s.List(ctx, "")
	if err != nil || len(objs) != 1 {
		t.Fatalf("objects after the crash: %v %v", keys(objs), err)
	}

	// The re-run publishes the complete file.
	info := write(t, s, staffingKey, data)
	if info.Size != int64(len(data)) || info.SHA256 != hexSum(data) || !strings.HasSuffix(info.ETag, "-8") {
		t.Fatalf("re-run: %+v", info)
	}
	if got := read(t, s, staffingKey); hexSum(got) != hexSum(data) {
		t.Fatal("the re-run's object differs from what was written")
	}
}

// Abort from another goroutine (a canceled run) stops a Write that is blocked on the
// upload, and publishes nothing.
func TestS3AbortWhileWriting(t *testing.T) {
	m := testenv.StartMinIO(t)
	s := newS3(t, m, "abort", "", lake.WithPartSize(5*mib))
	bucket := strings.Split(s.URL(), "/")[2]
	w, err := s.Create(context.Background(), "k.parquet")
	if err != nil {
		t.Fatal(err)
	}
	chunk := randomBytes(t, mib)
	written := make(chan int, 1)
	go func() {
		n := 0
		for ; n < 200; n++ {
			if _, err := w.Write(chunk); err != nil {
				break
			}
		}
		written <- n
	}()
	time.Sleep(200 * time.Millisecond)
	w.Abort(errors.New("run canceled"))
	select {
	case n := <-written:
		if n == 200 {
			t.Fatal("every Write succeeded after Abort")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Write still blocked 30s after Abort")
	}
	if _, err := s.Stat(context.Background(), "k.parquet"); !errors.Is(err, lake.ErrNotExist) {
		t.Fatalf("Stat after Abort: %v", err)
	}
	if up := incompleteUploads(t, m, bucket); len(up) != 0 {
		t.Fatalf("uploads left open: %v", up)
	}
}

// closedAddr is a loopback host:port nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}
