package lake

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"
)

// pageLike is n bytes that compress like a page of short text values.
func pageLike(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for b.Len() < n {
		fmt.Fprintf(&b, "agency-%d,2023-07-%02d;", r.IntN(50000), r.IntN(28)+1)
	}
	return b.Bytes()[:n]
}

// The process's zstd codec is the lake's, and its pages decode to what was encoded, at
// every size (one block, several blocks, past the window).
func TestZstdCodecRoundTrip(t *testing.T) {
	codec, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := codec.(zstdCodec)
	if !ok {
		t.Fatalf("the registered zstd codec is %T, want the lake's", codec)
	}
	for _, n := range []int{0, 1000, 300 << 10, 1 << 20, 3 << 20} {
		src := pageLike(n)
		enc := c.EncodeLevel(nil, src, compress.DefaultCompressionLevel)
		dec, err := compress.Decode(c, make([]byte, n), enc)
		if err != nil {
			t.Fatalf("%d bytes: decoding: %v", n, err)
		}
		if !bytes.Equal(dec, src) {
			t.Fatalf("%d bytes: decoded %d bytes that differ from the input", n, len(dec))
		}
		// A page up to the window compresses as arrow-go's encoder does; past it, nearly.
		base := c.base.EncodeLevel(nil, src, compress.DefaultCompressionLevel)
		if slack := 8 + len(base)/100; len(enc) > len(base)+slack {
			t.Errorf("%d bytes: compressed to %d bytes, arrow-go's encoder to %d", n, len(enc), len(base))
		}
	}
}

// The first page of more than one block a new encoder compresses allocates its history
// and tables: a few MiB, not the 16 MiB history of arrow-go's encoder.
func TestZstdCodecEncoderMemory(t *testing.T) {
	base, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		t.Fatal(err)
	}
	c := newZstdCodec(base.(zstdCodec).base)
	src := pageLike(1 << 20)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out := c.Encode(nil, src)
	runtime.ReadMemStats(&after)
	if len(out) == 0 {
		t.Fatal("encoded nothing")
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
		t.Fatalf("encoding a 1 MiB page with a new encoder allocated %d bytes, want at most 8 MiB", got)
	}
}
