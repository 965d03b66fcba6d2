package lake

import (
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// MaxRowGroupRows bounds a Parquet row group. pqarrow's Write makes at least one row
// group per record, so callers write records of at least MinRecordRows rows (except the
// last).
const (
	MaxRowGroupRows = 1 << 20
	MinRecordRows   = 64 << 10
)

// CreatedBy names the writer in the footer of the lake's Parquet files.
const CreatedBy = "districtlake"

// NewParquetWriter writes the lake's Parquet: zstd, column statistics, dictionary
// encoding, row groups of at most MaxRowGroupRows, timestamps in microseconds, the Arrow
// schema stored, and meta as the file's key-value metadata (sorted by key).
//
// Write records of MinRecordRows rows or more: every Write starts a row group. Close
// writes the footer; w must be a lake Writer (or any writer that is not an io.Closer), so
// that only the caller's Commit publishes the file. On an error, Abort the lake Writer
// instead of closing this one.
//
// extra writer properties apply after the lake's, for per-column tuning such as
// parquet.WithDictionaryFor(column, false) on a column whose values are all different.
func NewParquetWriter(w io.Writer, schema *arrow.Schema, meta map[string]string, extra ...parquet.WriterProperty) (*pqarrow.FileWriter, error) {
	props := parquet.NewWriterProperties(append([]parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithStats(true),
		parquet.WithDictionaryDefault(true),
		parquet.WithMaxRowGroupLength(MaxRowGroupRows),
		parquet.WithCreatedBy(CreatedBy),
	}, extra...)...)
	arrowProps := pqarrow.NewArrowWriterProperties(
		pqarrow.WithStoreSchema(),
		pqarrow.WithCoerceTimestamps(arrow.Microsecond),
	)
	fw, err := pqarrow.NewFileWriter(schema, w, props, arrowProps)
	if err != nil {
		return nil, fmt.Errorf("starting a Parquet file: %w", err)
	}
	for _, kv := range MetaPairs(meta) {
		if err := fw.AppendKeyValueMetadata(kv[0], kv[1]); err != nil {
			return nil, fmt.Errorf("setting Parquet metadata %q: %w", kv[0], err)
		}
	}
	return fw, nil
}

// MetaPairs is a file's key-value metadata in the order the lake writes it: by key.
func MetaPairs(meta map[string]string) [][2]string {
	pairs := make([][2]string, 0, len(meta))
	for _, k := range slices.Sorted(maps.Keys(meta)) {
		pairs = append(pairs, [2]string{k, meta[k]})
	}
	return pairs
}
