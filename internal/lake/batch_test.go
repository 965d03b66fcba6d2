package lake_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/testenv"
)

// batchLakes runs a test against a local folder and a MinIO lake. leftovers lists what an
// unfinished write left behind: temporary files in the folder, open multipart uploads in
// the bucket.
func batchLakes(t *testing.T, f func(t *testing.T, s lake.Store, leftovers func() []string)) {
	t.Run("file", func(t *testing.T) {
		dir, s := fileStore(t)
		f(t, s, func() []string {
			var tmp []string
			_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), ".tmp-") {
					tmp = append(tmp, p)
				}
				return err
			})
			return tmp
		})
	})
	t.Run("s3", func(t *testing.T) {
		m := testenv.StartMinIO(t)
		s := newS3(t, m, "batch", "districtlake/v1", lake.WithPartSize(5*mib))
		bucket := strings.Split(s.URL(), "/")[2]
		f(t, s, func() []string { return incompleteUploads(t, m, bucket) })
	})
}

const (
	incidentsKey = "incidents/state=WI/school_year=2023-24/district=5508520/data.parquet"
	reportKey    = "reports/state=WI/school_year=2023-24/index.html"
)

// fillBatch streams new bytes to staffingKey and incidentsKey (more than a part, so that
// S3 has multipart uploads under way) and adds a report.
func fillBatch(t *testing.T, b *lake.Batch) map[string][]byte {
	t.Helper()
	data := map[string][]byte{
		staffingKey:  randomBytes(t, 6*mib+3),
		incidentsKey: randomBytes(t, 1000),
		reportKey:    []byte("<html>report</html>"),
	}
	for _, key := range []string{staffingKey, incidentsKey} {
		w, err := b.Create(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data[key]); err != nil {
			t.Fatal(err)
		}
		if _, ok := w.(lake.Writer); ok {
			t.Fatal("a batch's writer can be committed on its own")
		}
	}
	if err := b.Put(reportKey, data[reportKey]); err != nil {
		t.Fatal(err)
	}
	return data
}

func listKeys(t *testing.T, s lake.Store) []string {
	t.Helper()
	got, err := s.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return keys(got)
}

// An aborted batch publishes nothing: the object that was at one of its keys is unchanged,
// no new object appears, and nothing is left half written.
func TestBatchAbortPublishesNothing(t *testing.T) {
	batchLakes(t, func(t *testing.T, s lake.Store, leftovers func() []string) {
		old := randomBytes(t, 1000)
		write(t, s, staffingKey, old)
		b := lake.NewBatch(s)
		fillBatch(t, b)
		if b.Len() != 3 {
			t.Fatalf("Len = %d, want 3", b.Len())
		}
		b.Abort(errors.New("a source had a bad row"))

		if got := listKeys(t, s); !slices.Equal(got, []string{staffingKey}) {
			t.Fatalf("after Abort the lake holds %v, want only the old %s", got, staffingKey)
		}
		if !bytes.Equal(read(t, s, staffingKey), old) {
			t.Fatal("Abort changed the object that was there")
		}
		if left := leftovers(); len(left) != 0 {
			t.Fatalf("Abort left %v", left)
		}
		if _, err := b.Commit(context.Background()); err == nil {
			t.Fatal("Commit after Abort succeeded")
		}
		if _, err := b.Create(context.Background(), incidentsKey); err == nil {
			t.Fatal("Create after Abort succeeded")
		}
		if got := listKeys(t, s); !slices.Equal(got, []string{staffingKey}) {
			t.Fatalf("after a late Commit the lake holds %v", got)
		}
	})
}

// Commit publishes every object, in order, and nothing is visible before it.
func TestBatchCommitPublishesAll(t *testing.T) {
	batchLakes(t, func(t *testing.T, s lake.Store, leftovers func() []string) {
		b := lake.NewBatch(s)
		data := fillBatch(t, b)
		if got := listKeys(t, s); len(got) != 0 {
			t.Fatalf("before Commit the lake shows %v", got)
		}
		infos, err := b.Commit(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		order := []string{staffingKey, incidentsKey, reportKey}
		if !slices.Equal(keys(infos), order) {
			t.Fatalf("Commit described %v, want %v", keys(infos), order)
		}
		for _, info := range infos {
			want := data[info.Key]
			if info.Size != int64(len(want)) || info.SHA256 != hexSum(want) {
				t.Errorf("%s: size %d sha256 %s, want %d %s", info.Key, info.Size, info.SHA256, len(want), hexSum(want))
			}
			if !bytes.Equal(read(t, s, info.Key), want) {
				t.Errorf("%s reads back different bytes", info.Key)
			}
		}
		b.Abort(errors.New("late")) // a deferred Abort after Commit does nothing
		if got := listKeys(t, s); len(got) != 3 {
			t.Fatalf("Abort after Commit: the lake holds %v", got)
		}
		if left := leftovers(); len(left) != 0 {
			t.Fatalf("Commit left %v", left)
		}
	})
}

// When one object fails to publish, the ones after it are aborted and the error says how
// many were published before it.
func TestBatchCommitFailureAbortsTheRest(t *testing.T) {
	batchLakes(t, func(t *testing.T, s lake.Store, leftovers func() []string) {
		b := lake.NewBatch(s)
		first := randomBytes(t, 1000)
		w, err := b.Create(context.Background(), staffingKey)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(first); err != nil {
			t.Fatal(err)
		}
		if err := b.Put(reportKey, []byte("<html></html>")); err != nil {
			t.Fatal(err)
		}
		w, err = b.Create(context.Background(), incidentsKey)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(randomBytes(t, 6*mib)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // the report's Put fails
		_, err = b.Commit(ctx)
		want := "publishing " + reportKey + " (after publishing 1 of 3 objects): context canceled"
		if err == nil || err.Error() != want || !errors.Is(err, context.Canceled) {
			t.Fatalf("Commit error %v, want %s", err, want)
		}
		if got := listKeys(t, s); !slices.Equal(got, []string{staffingKey}) {
			t.Fatalf("after the failed Commit the lake holds %v, want only %s", got, staffingKey)
		}
		if left := leftovers(); len(left) != 0 {
			t.Fatalf("the failed Commit left %v", left)
		}
	})
}

// A key the lake refuses fails at once, before the batch holds it.
func TestBatchBadKey(t *testing.T) {
	_, s := fileStore(t)
	b := lake.NewBatch(s)
	if err := b.Put("../x", nil); err == nil {
		t.Fatal("Put accepted ../x")
	}
	if _, err := b.Create(context.Background(), "/x"); err == nil {
		t.Fatal("Create accepted /x")
	}
	if b.Len() != 0 {
		t.Fatalf("Len = %d after refused keys", b.Len())
	}
}

func fileStore(t *testing.T) (string, lake.Store) {
	t.Helper()
	dir := t.TempDir()
	l, err := lake.ParseURL(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := lake.New(context.Background(), l, nil)
	if err != nil {
		t.Fatal(err)
	}
	return dir, s
}
