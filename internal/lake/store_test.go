package lake_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/testenv"
)

const staffingKey = "staffing/state=WI/school_year=2023-24/district=5508520/data.parquet"

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// write streams data into key in chunks and commits it.
func write(t testing.TB, s lake.Store, key string, data []byte) lake.ObjectInfo {
	t.Helper()
	w, err := s.Create(context.Background(), key)
	if err != nil {
		t.Fatalf("Create %s: %v", key, err)
	}
	for rest := data; len(rest) > 0; {
		n := min(len(rest), 1<<20)
		if _, err := w.Write(rest[:n]); err != nil {
			w.Abort(err)
			t.Fatalf("Write %s: %v", key, err)
		}
		rest = rest[n:]
	}
	info, err := w.Commit()
	if err != nil {
		t.Fatalf("Commit %s: %v", key, err)
	}
	return info
}

// read returns an object's bytes.
func read(t testing.TB, s lake.Store, key string) []byte {
	t.Helper()
	o, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open %s: %v", key, err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	return b
}

func keys(infos []lake.ObjectInfo) []string {
	var out []string
	for _, i := range infos {
		out = append(out, i.Key)
	}
	return out
}

// stores runs a test against a file lake and a MinIO lake.
func stores(t *testing.T, f func(t *testing.T, s lake.Store)) {
	t.Run("file", func(t *testing.T) {
		_, s := fileStore(t)
		f(t, s)
	})
	t.Run("s3", func(t *testing.T) {
		f(t, newS3(t, testenv.StartMinIO(t), "lake", "districtlake/v1"))
	})
}

var bucketSeq struct {
	sync.Mutex
	n int
}

// newS3 makes a fresh bucket and a store in it.
func newS3(t *testing.T, m *testenv.MinIO, bucket, prefix string, opts ...lake.Option) lake.Store {
	t.Helper()
	bucketSeq.Lock()
	bucketSeq.n++
	bucket = fmt.Sprintf("%s-%d", bucket, bucketSeq.n)
	bucketSeq.Unlock()
	m.CreateBucket(t, bucket)
	l, env := m.Lake(bucket, prefix)
	s, err := lake.New(context.Background(), l, env, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWriteCommitRead(t *testing.T) {
	stores(t, func(t *testing.T, s lake.Store) {
		ctx := context.Background()
		data := randomBytes(t, 3<<20+17)
		w, err := s.Create(ctx, staffingKey)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data[:1<<20]); err != nil {
			t.Fatal(err)
		}
		// Nothing is visible before Commit.
		if _, err := s.Stat(ctx, staffingKey); !errors.Is(err, lake.ErrNotExist) {
			t.Fatalf("Stat before Commit: %v", err)
		}
		if got, err := s.List(ctx, ""); err != nil || len(got) != 0 {
			t.Fatalf("List before Commit: %v %v", keys(got), err)
		}
		if _, err := w.Write(data[1<<20:]); err != nil {
			t.Fatal(err)
		}
		info, err := w.Commit()
		if err != nil {
			t.Fatal(err)
		}
		if info.Key != staffingKey || info.Size != int64(len(data)) || info.SHA256 != hexSum(data) {
			t.Fatalf("Commit info %+v", info)
		}
		st, err := s.Stat(ctx, staffingKey)
		if err != nil || st.Size != int64(len(data)) || st.Key != staffingKey || st.LastModified.IsZero() {
			t.Fatalf("Stat %+v %v", st, err)
		}
		if !bytes.Equal(read(t, s, staffingKey), data) {
			t.Fatal("read back differs")
		}
		if _, err := w.Commit(); err == nil || !strings.Contains(err.Error(), "already committed or aborted") {
			t.Fatalf("second Commit: %v", err)
		}
		if _, err := w.Write([]byte("x")); err == nil {
			t.Fatal("Write after Commit succeeded")
		}
		w.Abort(errors.New("late")) // does nothing after Commit
		if !bytes.Equal(read(t, s, staffingKey), data) {
			t.Fatal("Abort after Commit changed the object")
		}
	})
}

func TestRangedReads(t *testing.T) {
	stores(t, func(t *testing.T, s lake.Store) {
		ctx := context.Background()
		data := randomBytes(t, 1<<20)
		write(t, s, "a/b.bin", data)
		o, err := s.Open(ctx, "a/b.bin")
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		if o.Size() != int64(len(data)) {
			t.Fatalf("Size %d", o.Size())
		}
		// Footer first, as a Parquet reader does, then the middle, then the start.
		for _, r := range [][2]int{{len(data) - 8, 8}, {500_000, 1000}, {0, 4}, {len(data) - 1, 1}} {
			buf := make([]byte, r[1])
			n, err := o.ReadAt(buf, int64(r[0]))
			if n != r[1] || (err != nil && err != io.EOF) || !bytes.Equal(buf, data[r[0]:r[0]+r[1]]) {
				t.Fatalf("ReadAt(%d, %d) = %d, %v", r[0], r[1], n, err)
			}
		}
		if pos, err := o.Seek(-100, io.SeekEnd); err != nil || pos != int64(len(data)-100) {
			t.Fatalf("Seek %d %v", pos, err)
		}
		tail, err := io.ReadAll(o)
		if err != nil || !bytes.Equal(tail, data[len(data)-100:]) {
			t.Fatalf("read after Seek: %d bytes, %v", len(tail), err)
		}
	})
}

// OpenRange streams exactly the bytes asked for; a missing object is ErrNotExist and a
// range past the object's end an error, never a short read.
func TestOpenRange(t *testing.T) {
	stores(t, func(t *testing.T, s lake.Store) {
		ctx := context.Background()
		data := randomBytes(t, 1<<20)
		write(t, s, "a/b.bin", data)
		for _, r := range [][2]int64{{0, 1 << 20}, {0, 10}, {500_000, 70_000}, {1<<20 - 1, 1}, {1000, 0}} {
			rc, err := s.OpenRange(ctx, "a/b.bin", r[0], r[1])
			if err != nil {
				t.Fatalf("OpenRange(%d, %d): %v", r[0], r[1], err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, data[r[0]:r[0]+r[1]]) {
				t.Fatalf("OpenRange(%d, %d) read %d bytes, %v", r[0], r[1], len(got), err)
			}
		}
		if _, err := s.OpenRange(ctx, "a/missing.bin", 0, 10); !errors.Is(err, lake.ErrNotExist) {
			t.Fatalf("a missing object: %v; want ErrNotExist", err)
		}
		rc, err := s.OpenRange(ctx, "a/b.bin", 1<<20-10, 20)
		if err == nil {
			_, err = io.ReadAll(rc)
			rc.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "b.bin") {
			t.Fatalf("a range past the end: %v; want an error naming the object", err)
		}
	})
}

func TestAbortKeepsOldObject(t *testing.T) {
	stores(t, func(t *testing.T, s lake.Store) {
		ctx := context.Background()
		old := randomBytes(t, 1000)
		write(t, s, staffingKey, old)
		w, err := s.Create(ctx, staffingKey)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(randomBytes(t, 2<<20)); err != nil {
			t.Fatal(err)
		}
		w.Abort(io.EOF) // even an io.EOF reason must not complete the upload
		if _, err := w.Commit(); err == nil {
			t.Fatal("Commit after Abort succeeded")
		}
		if got := read(t, s, staffingKey); !bytes.Equal(got, old) {
			t.Fatalf("the old object changed: %d bytes", len(got))
		}
		got, err := s.List(ctx, "")
		if err != nil || len(got) != 1 || got[0].Key != staffingKey || got[0].Size != 1000 {
			t.Fatalf("List after Abort: %+v %v", got, err)
		}
	})
}

func TestConcurrentWriters(t *testing.T) {
	stores(t, func(t *testing.T, s lake.Store) {
		ctx := context.Background()
		const n = 6
		data := make([][]byte, n)
		writers := make([]lake.Writer, n)
		for i := range writers {
			data[i] = randomBytes(t, 256<<10*(i+1))
			w, err := s.Create(ctx, fmt.Sprintf("ds%d/state=WI/data.parquet", i))
			if err != nil {
				t.Fatal(err)
			}
			writers[i] = w
		}
		// All open at once, written in parallel, committed at the end as a run does.
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i, w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for off := 0; off < len(data[i]); off += 64 << 10 {
					if _, err := w.Write(data[i][off:min(off+64<<10, len(data[i]))]); err != nil {
						errs[i] = err
						return
					}
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.List(ctx, ""); len(got) != 0 {
			t.Fatalf("objects visible before Commit: %v", keys(got))
		}
		for i, w := range writers {
			info, err := w.Commit()
			if err != nil || info.SHA256 != hexSum(data[i]) {
				t.Fatalf("Commit %d: %+v %v", i, info, err)
			}
		}
		for i := range writers {
			if !bytes.Equal(read(t, s, fmt.Sprintf("ds%d/state=WI/data.parquet", i)), data[i]) {
				t.Fatalf("object %d differs", i)
			}
		}
	})
}

// Whatever the sizes of its writes (a whole object at once, pieces of a few bytes, or a
// mix, as the Parquet writers and manifests make), an object reads back as written, from
// writers open side by side that share their buffers.
func TestWritePatterns(t *testing.T) {
	stores(t, func(t *testing.T, s lake.Store) {
		ctx := context.Background()
		type object struct {
			name  string
			sizes []int
			w     lake.Writer
			data  []byte
		}
		objects := []*object{
			{name: "one-write", sizes: []int{70_000}},
			{name: "tiny-writes", sizes: []int{4, 1, 9, 3, 200, 7, 4}},
			{name: "small-then-large", sizes: []int{4, 511, 512, 20_000, 3}},
			{name: "large-then-small", sizes: []int{512, 4, 9_000, 1, 8 << 10}},
			{name: "at-the-buffer", sizes: []int{8<<10 - 1, 1, 8 << 10, 8<<10 + 1}},
			{name: "empty-writes", sizes: []int{0, 0}},
		}
		for _, o := range objects {
			w, err := s.Create(ctx, "patterns/"+o.name+".bin")
			if err != nil {
				t.Fatal(err)
			}
			o.w = w
		}
		// Interleave the writers' writes, so that buffers pass between them.
		for step := 0; step < 8; step++ {
			for _, o := range objects {
				if step >= len(o.sizes) {
					continue
				}
				p := randomBytes(t, o.sizes[step])
				if _, err := o.w.Write(p); err != nil {
					t.Fatal(err)
				}
				o.data = append(o.data, p...)
				if step == len(o.sizes)-1 {
					if info, err := o.w.Commit(); err != nil || info.Size != int64(len(o.data)) || info.SHA256 != hexSum(o.data) {
						t.Fatalf("%s: Commit %+v %v", o.name, info, err)
					}
				}
			}
		}
		for _, o := range objects {
			if got := read(t, s, "patterns/"+o.name+".bin"); !bytes.Equal(got, o.data) {
				t.Errorf("%s: read back %d bytes that differ from the %d written", o.name, len(got), len(o.data))
			}
		}
	})
}

func TestListStatPut(t *testing.T) {
	stores(t, func(t *testing.T, s lake.Store) {
		ctx := context.Background()
		for _, k := range []string{"b/x", "a/z", "a/y", "ab", "_runs/r1.json"} {
			info, err := s.Put(ctx, k, []byte(k))
			if err != nil || info.Key != k || info.Size != int64(len(k)) || info.SHA256 != hexSum([]byte(k)) {
				t.Fatalf("Put %s: %+v %v", k, info, err)
			}
		}
		cases := map[string]string{
			"":        "_runs/r1.json a/y a/z ab b/x",
			"a/":      "a/y a/z",
			"a":       "a/y a/z ab",
			"_runs/":  "_runs/r1.json",
			"nothing": "",
			"b/x":     "b/x",
		}
		for prefix, want := range cases {
			got, err := s.List(ctx, prefix)
			if err != nil || strings.Join(keys(got), " ") != want {
				t.Errorf("List(%q) = %v, %v; want %s", prefix, keys(got), err, want)
			}
		}
		if _, err := s.Stat(ctx, "a/nope"); !errors.Is(err, lake.ErrNotExist) {
			t.Errorf("Stat missing: %v", err)
		}
		if _, err := s.Open(ctx, "a/nope"); !errors.Is(err, lake.ErrNotExist) {
			t.Errorf("Open missing: %v", err)
		}
		if _, err := s.Stat(ctx, "a"); !errors.Is(err, lake.ErrNotExist) {
			t.Errorf("Stat of a folder-like prefix: %v", err)
		}
		for _, bad := range []string{"", "/a", "a/", "a//b", "a/../b", "./a"} {
			if _, err := s.Create(ctx, bad); err == nil {
				t.Errorf("Create(%q) succeeded", bad)
			}
		}
	})
}

func TestFileLake(t *testing.T) {
	dir := t.TempDir()
	l, err := lake.ParseURL("file://"+dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := lake.New(context.Background(), l, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.URL() != "file://"+dir {
		t.Fatalf("URL %s", s.URL())
	}
	w, err := s.Create(context.Background(), staffingKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("half")); err != nil {
		t.Fatal(err)
	}
	// The temp file sits beside the destination and is not listed.
	tmp, _ := filepath.Glob(filepath.Join(dir, filepath.Dir(staffingKey), ".tmp-*"))
	if len(tmp) != 1 {
		t.Fatalf("temp files: %v", tmp)
	}
	if got, _ := s.List(context.Background(), ""); len(got) != 0 {
		t.Fatalf("List shows %v", keys(got))
	}
	w.Abort(errors.New("bad row"))
	if tmp, _ := filepath.Glob(filepath.Join(dir, filepath.Dir(staffingKey), ".tmp-*")); len(tmp) != 0 {
		t.Fatalf("Abort left %v", tmp)
	}
	write(t, s, staffingKey, []byte("data"))
	if b, err := os.ReadFile(filepath.Join(dir, staffingKey)); err != nil || string(b) != "data" {
		t.Fatalf("file: %q %v", b, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, staffingKey)); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("published file mode %v %v", fi.Mode(), err)
	}
}

func TestParseURL(t *testing.T) {
	wd, _ := os.Getwd()
	env := lake.MapEnv(map[string]string{
		"DISTRICTLAKE_S3_ENDPOINT": "minio.lake:9000",
		"AWS_REGION":               "us-west-2",
	})
	cases := []struct {
		url  string
		env  lake.Env
		want lake.Config
		err  string
	}{
		{url: "./lake", want: lake.Config{Type: "file", Path: filepath.Join(wd, "lake")}},
		{url: "file:///var/lake", want: lake.Config{Type: "file", Path: "/var/lake"}},
		{url: "s3://statewide/districtlake/v1/", env: env, want: lake.Config{Type: "s3", Endpoint: "minio.lake:9000",
			Bucket: "statewide", Prefix: "districtlake/v1", Region: "us-west-2", Secure: true, PathStyle: true,
			AccessKeyIDEnv: "AWS_ACCESS_KEY_ID", SecretAccessKeyEnv: "AWS_SECRET_ACCESS_KEY"}},
		{url: "s3://statewide", env: lake.MapEnv(map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:9000"}),
			want: lake.Config{Type: "s3", Endpoint: "127.0.0.1:9000", Bucket: "statewide", PathStyle: true,
				AccessKeyIDEnv: "AWS_ACCESS_KEY_ID", SecretAccessKeyEnv: "AWS_SECRET_ACCESS_KEY"}},
		{url: "s3://b/p", env: lake.MapEnv(map[string]string{"AWS_ENDPOINT_URL": "https://minio:9000", "DISTRICTLAKE_S3_INSECURE": "true"}),
			want: lake.Config{Type: "s3", Endpoint: "minio:9000", Bucket: "b", Prefix: "p", PathStyle: true,
				AccessKeyIDEnv: "AWS_ACCESS_KEY_ID", SecretAccessKeyEnv: "AWS_SECRET_ACCESS_KEY"}},
		{url: "s3://b", env: lake.MapEnv(nil), want: lake.Config{Type: "s3", Endpoint: "s3.amazonaws.com", Bucket: "b", Secure: true,
			AccessKeyIDEnv: "AWS_ACCESS_KEY_ID", SecretAccessKeyEnv: "AWS_SECRET_ACCESS_KEY"}},
		{url: "s3:///x", err: `lake URL "s3:///x" names no bucket`},
		{url: "gs://b", err: `lake URL "gs://b": the scheme is not s3:// or file://`},
		{url: "file://rel", err: `lake URL "file://rel": a file URL needs an absolute path (file:///path)`},
		{url: "", err: "lake URL is empty"},
	}
	for _, tc := range cases {
		e := tc.env
		if e == nil {
			e = lake.MapEnv(nil)
		}
		got, err := lake.ParseURL(tc.url, e)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("ParseURL(%q) error = %v, want %s", tc.url, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseURL(%q) = %+v, %v\nwant %+v", tc.url, got, err, tc.want)
		}
	}
}

func TestEmptyObject(t *testing.T) {
	stores(t, func(t *testing.T, s lake.Store) {
		info := write(t, s, "_runs/empty", nil)
		if info.Size != 0 || info.SHA256 != hexSum(nil) {
			t.Fatalf("%+v", info)
		}
		if got := read(t, s, "_runs/empty"); len(got) != 0 {
			t.Fatalf("read %d bytes", len(got))
		}
	})
}

// A file lake makes an object's folders, the missing parents too, and says which path is
// in the way when a file stands where a folder must go; a folder where the object must go
// is refused, not replaced.
func TestFileLakeFolders(t *testing.T) {
	dir, s := fileStore(t)
	write(t, s, "a/b/c/d.parquet", []byte("deep"))
	write(t, s, "a/b/e.parquet", []byte("beside"))
	for key, want := range map[string]string{"a/b/c/d.parquet": "deep", "a/b/e.parquet": "beside"} {
		if b, err := os.ReadFile(filepath.Join(dir, key)); err != nil || string(b) != want {
			t.Errorf("%s: %q %v", key, b, err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "x"), []byte("a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(context.Background(), "x/y/z.parquet"); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "x")) {
		t.Errorf("Create under a file: %v; want an error naming %s", err, filepath.Join(dir, "x"))
	}
	if err := os.MkdirAll(filepath.Join(dir, "f", "g.parquet"), 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := s.Create(context.Background(), "f/g.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("data")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(); err == nil {
		t.Error("Commit over a folder succeeded")
	}
	if fi, err := os.Stat(filepath.Join(dir, "f", "g.parquet")); err != nil || !fi.IsDir() {
		t.Errorf("the folder was replaced: %v %v", fi, err)
	}
}
