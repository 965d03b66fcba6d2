package ingest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/districtlake/districtlake/internal/ingest/crdcgen"
)

// scanAll reads every record with a csvScanner fed by r.
func scanAll(t testing.TB, r io.Reader, comma byte) ([][]string, error) {
	t.Helper()
	s := newCSVScanner(r, comma)
	var out [][]string
	for {
		rec, _, err := s.next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		row := make([]string, len(rec))
		for i, f := range rec {
			row[i] = string(f)
		}
		out = append(out, row)
	}
}

// stdAll reads every record with encoding/csv, the reference.
func stdAll(in string, comma byte) ([][]string, error) {
	r := csv.NewReader(strings.NewReader(in))
	r.Comma = rune(comma)
	r.FieldsPerRecord = -1
	var out [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

var csvCases = []string{
	"a,b,c\n1,2,3\n",
	"a,b,c\r\n1,2,3\r\n",
	"a,b,c\n1,2,3",
	"a,b\n\n\n1,2\n\r\n3,4\n",
	"name,n\n\"Lincoln, North\",3\n",
	"name,n\n\"The \"\"Bridge\"\" Academy\",3\n",
	"name,n\n\"two\nlines\",3\n\"crlf\r\ninside\",4\r\n",
	"a,b,c\n,,\n",
	"a,b,c\n1,2,\n",
	"x\n\"\"\n",
	"a;b\n1;\"2;3\"\n",
	"lone\rcarriage,b\n",
	"a,b\n1,2\r",
	"a,\"\"\"\"\n",
	"é,ü\nä,\"ö\"\n",
}

func TestCSVScannerMatchesEncodingCSV(t *testing.T) {
	for _, in := range csvCases {
		comma := byte(',')
		if strings.Contains(in, ";") {
			comma = ';'
		}
		want, werr := stdAll(in, comma)
		// Feed one byte at a time too, so every record crosses a buffer refill.
		for _, r := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in))} {
			got, err := scanAll(t, r, comma)
			if (err != nil) != (werr != nil) {
				t.Fatalf("%q: error %v, encoding/csv %v", in, err, werr)
			}
			if !slices.EqualFunc(got, want, slices.Equal) {
				t.Fatalf("%q:\n got %q\nwant %q", in, got, want)
			}
		}
	}
}

func TestCSVScannerRejectsBadQuotes(t *testing.T) {
	for in, want := range map[string]string{
		"a,b\n1,x\"y\n":       "a quote in an unquoted field (quote the whole field and double the quote)",
		"a,b\n1,\"x\"y\n":     `unexpected 'y' after a closing quote (a quote inside a quoted field must be doubled)`,
		"a,b\n1,\"never\n2\n": "a quoted field is not closed",
	} {
		_, err := scanAll(t, strings.NewReader(in), ',')
		var se *csvSyntaxError
		if !errors.As(err, &se) || se.Msg != want {
			t.Errorf("%q: got %v, want %q", in, err, want)
		}
		if _, werr := stdAll(in, ','); werr == nil {
			t.Errorf("%q: encoding/csv accepts it", in)
		}
	}
}

func TestCSVScannerLines(t *testing.T) {
	in := "h1,h2\r\n\"a\nb\",1\r\n\r\nc,2\r\n"
	s := newCSVScanner(strings.NewReader(in), ',')
	var lines []int
	for {
		_, _, err := s.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, s.line)
	}
	if !slices.Equal(lines, []int{1, 2, 5}) {
		t.Fatalf("record lines %v, want [1 2 5]", lines)
	}
}

func TestCSVScannerFilter(t *testing.T) {
	in := "id,lea,name\n1,A,x\n2,B,\"multi\nline, B\"\n3,A,\"q\"\"\"\n4,B,plain\n5,A,y"
	for _, r := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in))} {
		s := newCSVScanner(r, ',')
		if _, _, err := s.next(); err != nil { // header
			t.Fatal(err)
		}
		s.setFilter(1, []byte("A"), nil)
		var kept []string
		skipped := 0
		for {
			rec, skip, err := s.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if skip {
				skipped++
				continue
			}
			kept = append(kept, string(bytes.Join(rec, []byte("|"))))
		}
		if want := []string{"1|A|x", `3|A|q"`, "5|A|y"}; !slices.Equal(kept, want) || skipped != 2 {
			t.Fatalf("kept %q (skipped %d), want %q (2)", kept, skipped, want)
		}
		if s.records != 6 || s.nextLine != 8 {
			t.Fatalf("records %d, next line %d; want 6, 8", s.records, s.nextLine)
		}
	}
}

func TestCSVScannerBOMAndLongRecord(t *testing.T) {
	long := strings.Repeat("x", 3*csvChunk)
	in := "\uFEFFa,b\n" + long + ",2\n"
	s := newCSVScanner(strings.NewReader(in), ',')
	s.maxCell = len(long) // past the default cell limit, within the record limit
	if err := s.stripBOM(); err != nil {
		t.Fatal(err)
	}
	h, _, err := s.next()
	if err != nil || string(h[0]) != "a" {
		t.Fatalf("header %q, %v", h, err)
	}
	rec, _, err := s.next()
	if err != nil || len(rec[0]) != len(long) {
		t.Fatalf("long record: %v", err)
	}
	s = newCSVScanner(strings.NewReader(in), ',')
	s.maxRecord = csvChunk
	if _, _, err := s.next(); err != nil {
		t.Fatalf("header: %v", err)
	}
	if _, _, err := s.next(); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("want a too-long error, got %v", err)
	}
}

func FuzzCSVScanner(f *testing.F) {
	for _, c := range csvCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, in string) {
		want, werr := stdAll(in, ',')
		got, err := scanAll(t, iotest.HalfReader(strings.NewReader(in)), ',')
		if werr != nil || err != nil {
			if (werr == nil) != (err == nil) {
				// encoding/csv accepts a \r before a quote-free line end inside quoted text
				// the same way; any other disagreement is a bug.
				t.Fatalf("%q: error %v, encoding/csv %v", in, err, werr)
			}
			return
		}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("%q:\n got %q\nwant %q", in, got, want)
		}
	})
}

// crdcBytes generates a CRDC file in memory for benchmarks.
func crdcBytes(b testing.TB, o crdcgen.Options) []byte {
	b.Helper()
	var buf bytes.Buffer
	if _, err := crdcgen.Generate(&buf, o); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func BenchmarkCSVScanner(b *testing.B) {
	o := crdcgen.Defaults()
	o.Schools = 100000
	data := crdcBytes(b, o)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		s := newCSVScanner(bytes.NewReader(data), ',')
		for {
			if _, _, err := s.next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkEncodingCSV(b *testing.B) {
	o := crdcgen.Defaults()
	o.Schools = 100000
	data := crdcBytes(b, o)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r := csv.NewReader(bytes.NewReader(data))
		r.ReuseRecord = true
		for {
			if _, err := r.Read(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}
