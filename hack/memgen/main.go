// Command memgen writes the hostile inputs of the memory benchmark (hack/bench/memory.sh),
// each sized as in issue 12:
//
//	contracts  400 MiB of short contract rows, every key different (csv)
//	object     one JSON object of 300 MiB: a row of many short fields (json)
//	nested     200 MB of nested arrays inside one object (json)
//	fields     CSV lines of 16.7 million fields, 200 MB in all (csv)
//	dictionary a Parquet file of a few KB whose long dictionary values decode to 3.4 GB
//
//	go run ./hack/memgen -case contracts -o contracts.csv [-scale 1]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

func main() {
	name := flag.String("case", "", "contracts, object, nested, fields or dictionary")
	out := flag.String("o", "", "output file")
	scale := flag.Float64("scale", 1, "fraction of the issue's size")
	flag.Parse()
	if err := run(*name, *out, *scale); err != nil {
		fmt.Fprintln(os.Stderr, "memgen:", err)
		os.Exit(1)
	}
}

func run(name, out string, scale float64) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	size := func(n float64) int64 { return int64(n * scale) }
	switch name {
	case "contracts":
		err = contracts(w, size(400<<20))
	case "object":
		err = object(w, size(300<<20))
	case "nested":
		err = nested(w, size(200e6))
	case "fields":
		err = fields(w, size(200e6))
	case "dictionary":
		err = dictionary(w, size(65536))
	default:
		err = fmt.Errorf("unknown case %q", name)
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// contracts writes short rows with a different agency on each.
func contracts(w *bufio.Writer, size int64) error {
	n, _ := w.WriteString("agency_name,start_date\n")
	written := int64(n)
	var b []byte
	for i := int64(0); written < size; i++ {
		b = append(b[:0], 'a')
		b = strconv.AppendInt(b, i, 36)
		b = append(b, ",2023-07-01\n"...)
		n, err := w.Write(b)
		if err != nil {
			return err
		}
		written += int64(n)
	}
	return nil
}

// object writes one staffing row of size bytes: a JSON array holding one object whose
// fields are many short strings (an object the size of the issue's, not one long value,
// which the cell cap would stop first).
func object(w *bufio.Writer, size int64) error {
	n, _ := w.WriteString(`[{"nces_school_id":"550852000001"`)
	written := int64(n)
	var b []byte
	for i := int64(0); written < size-3; i++ {
		b = append(b[:0], `,"f`...)
		b = strconv.AppendInt(b, i, 36)
		b = append(b, `":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"`...)
		n, err := w.Write(b)
		if err != nil {
			return err
		}
		written += int64(n)
	}
	_, err := w.WriteString(`}]`)
	return err
}

// nested writes one staffing object holding arrays nested size/2 deep.
func nested(w *bufio.Writer, size int64) error {
	if _, err := w.WriteString(`[{"nces_school_id":"550852000001","extra":`); err != nil {
		return err
	}
	if err := repeat(w, '[', size/2); err != nil {
		return err
	}
	if err := repeat(w, ']', size/2); err != nil {
		return err
	}
	_, err := w.WriteString(`}]`)
	return err
}

// fields writes contracts lines of 16.7 million fields each (just under the 16 MiB record
// limit).
func fields(w *bufio.Writer, size int64) error {
	if _, err := w.WriteString("agency_name,start_date\n"); err != nil {
		return err
	}
	line := "a" + strings.Repeat(",", 16_700_000-1) + "\n"
	for written := int64(0); written < size; written += int64(len(line)) {
		if _, err := w.WriteString(line); err != nil {
			return err
		}
	}
	return nil
}

func repeat(w *bufio.Writer, c byte, n int64) error {
	chunk := []byte(strings.Repeat(string(c), 1<<20))
	for n > 0 {
		k := min(n, int64(len(chunk)))
		if _, err := w.Write(chunk[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// dictionary writes rows contracts whose agency is one of 16 values of 52 KiB, dictionary
// encoded and compressed: 65,536 rows decode to 3.4 GB.
func dictionary(w io.Writer, rows int64) error {
	sch := arrow.NewSchema([]arrow.Field{
		{Name: "agency_name", Type: arrow.BinaryTypes.String},
		{Name: "start_date", Type: arrow.FixedWidthTypes.Date32},
	}, nil)
	props := parquet.NewWriterProperties(parquet.WithDictionaryDefault(true), parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithMaxRowGroupLength(1<<20))
	fw, err := pqarrow.NewFileWriter(sch, w, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return err
	}
	values := make([]string, 16)
	for i := range values {
		values[i] = fmt.Sprintf("%02d", i) + strings.Repeat("x", 52<<10)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, sch)
	defer b.Release()
	start := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range rows {
		b.Field(0).(*array.StringBuilder).Append(values[i%16])
		b.Field(1).(*array.Date32Builder).Append(arrow.Date32FromTime(start.AddDate(0, 0, int(i/16))))
		if b.Field(0).Len() == 4096 || i == rows-1 {
			rec := b.NewRecordBatch()
			err := fw.WriteBuffered(rec)
			rec.Release()
			if err != nil {
				return err
			}
		}
	}
	return fw.Close()
}
