package lake_test

import (
	"context"
	"testing"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/testenv"
)

// benchWrite streams size bytes into one object per iteration, in 1 MiB writes, and
// commits it: the lake's publish throughput.
func benchWrite(b *testing.B, s lake.Store, size int) {
	chunk := randomBytes(b, 1<<20)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		w, err := s.Create(context.Background(), "bench/data.parquet")
		if err != nil {
			b.Fatal(err)
		}
		for n := 0; n < size; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := w.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFileWrite64MiB(b *testing.B) {
	l, err := lake.ParseURL(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	s, err := lake.New(context.Background(), l, nil)
	if err != nil {
		b.Fatal(err)
	}
	benchWrite(b, s, 64<<20)
}

func BenchmarkS3Write64MiB(b *testing.B) {
	m := testenv.StartMinIO(b)
	m.CreateBucket(b, "bench")
	l, env := m.Lake("bench", "")
	s, err := lake.New(context.Background(), l, env)
	if err != nil {
		b.Fatal(err)
	}
	benchWrite(b, s, 64<<20)
}
