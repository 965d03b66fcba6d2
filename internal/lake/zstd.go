package lake

import (
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// zstdWindow is the window of the zstd encoder of the lake's Parquet pages. arrow-go's
// encoder keeps klauspost's default of 8 MiB, and an encoder compressing a page of more
// than one block (128 KiB) allocates a history of twice its window: 16 MiB per pooled
// encoder, however small the pages, which was the largest part of an ingest's memory
// after the rows' own. A page is at most the data page size (1 MiB) plus one value, and
// a zstd frame per page never refers back past its own start, so a window of 1 MiB
// compresses pages of up to 1 MiB exactly as before (the same bytes but for the window
// size in the frame header) and larger ones nearly as well, with a history of 2 MiB.
const zstdWindow = 1 << 20

// zstdCodec is arrow-go's zstd codec with a smaller encoder window at the default level;
// decoding, streams and explicit levels stay arrow-go's.
type zstdCodec struct {
	base     compress.Codec
	encoders *sync.Pool // of *zstd.Encoder
}

// init replaces arrow-go's zstd codec for every Parquet file the process writes or reads
// (the registry is arrow-go's, meant to be set from init; the codec holds no state
// besides its pool of encoders).
func init() {
	base, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		return
	}
	compress.RegisterCodec(compress.Codecs.Zstd, newZstdCodec(base))
}

func newZstdCodec(base compress.Codec) zstdCodec {
	return zstdCodec{base: base, encoders: &sync.Pool{New: func() any {
		// The options of arrow-go's pooled encoders, with the window set.
		enc, err := zstd.NewWriter(nil, zstd.WithZeroFrames(true), zstd.WithEncoderLevel(zstd.SpeedDefault),
			zstd.WithEncoderConcurrency(1), zstd.WithAllLitEntropyCompression(true), zstd.WithWindowSize(zstdWindow))
		if err != nil {
			// Constant, valid options: never happens.
			panic(err)
		}
		return enc
	}}}
}

func (c zstdCodec) Encode(dst, src []byte) []byte {
	return c.EncodeLevel(dst, src, compress.DefaultCompressionLevel)
}

func (c zstdCodec) EncodeLevel(dst, src []byte, level int) []byte {
	if level != compress.DefaultCompressionLevel {
		return c.base.EncodeLevel(dst, src, level)
	}
	enc := c.encoders.Get().(*zstd.Encoder)
	defer c.encoders.Put(enc)
	return enc.EncodeAll(src, dst[:0])
}

func (c zstdCodec) CompressBound(n int64) int64 { return c.base.CompressBound(n) }

func (c zstdCodec) Decode(dst, src []byte) []byte { return c.base.Decode(dst, src) }

func (c zstdCodec) DecodeWithError(dst, src []byte) ([]byte, error) {
	return compress.Decode(c.base, dst, src)
}

func (c zstdCodec) NewReader(r io.Reader) io.ReadCloser {
	return c.base.(compress.StreamingCodec).NewReader(r)
}

func (c zstdCodec) NewWriter(w io.Writer) io.WriteCloser {
	return c.base.(compress.StreamingCodec).NewWriter(w)
}

func (c zstdCodec) NewWriterLevel(w io.Writer, level int) (io.WriteCloser, error) {
	return c.base.(compress.StreamingCodec).NewWriterLevel(w, level)
}
