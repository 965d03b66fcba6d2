// Command crdcgen writes a synthetic CRDC school file (School Support, Enrollment or
// Referrals and Arrests; for 2015-16 the one wide School Data file) in the layout the
// collection of -year published, with made-up numbers, for tests and benchmarks:
//
//	go run ./hack/crdcgen -year 2020-21 -kind support -schools 100000 -districts 13000 -leaid 5508520 -o support.csv
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/districtlake/districtlake/internal/ingest/crdcgen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "crdcgen:", err)
		os.Exit(1)
	}
}

func run() error {
	o := crdcgen.Defaults()
	kind := flag.String("kind", string(o.Kind), "file to write: support | enrollment | arrests")
	flag.IntVar(&o.Schools, "schools", o.Schools, "number of school rows")
	flag.IntVar(&o.Districts, "districts", o.Districts, "number of districts the schools belong to")
	flag.StringVar(&o.LEAID, "leaid", o.LEAID, "7-digit LEAID of the district that gets its share of schools")
	flag.StringVar(&o.DistrictName, "name", o.DistrictName, "name of that district")
	flag.Uint64Var(&o.Seed, "seed", o.Seed, "random seed (the same seed gives the same schools in every kind)")
	flag.BoolVar(&o.BOM, "bom", o.BOM, "write a UTF-8 byte order mark")
	flag.BoolVar(&o.CRLF, "crlf", o.CRLF, "end lines with CRLF")
	flag.StringVar(&o.Year, "year", o.Year, "collection whose layout to write: 2015-16 (one wide School Data file, whatever -kind) | 2017-18 | 2020-21 | 2021-22")
	flag.BoolVar(&o.Damage, "damage", o.Damage, "write the documented damage of the 2015-16 file: LEAIDs without their leading zero, COMBOKEYs in scientific notation")
	flag.BoolVar(&o.Windows1252, "windows-1252", o.Windows1252, "write accented school names in Windows-1252")
	flag.Float64Var(&o.ReserveRate, "reserve", o.ReserveRate, "share of cells holding a reserve code")
	flag.Float64Var(&o.JJRate, "jj", o.JJRate, "share of schools that are justice facilities (JJ=Yes)")
	out := flag.String("o", "", "output file (stdout when empty)")
	flag.Parse()
	o.Kind = crdcgen.Kind(*kind)

	w := os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	st, err := crdcgen.Generate(w, o)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := w.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", *out, err)
		}
	}
	fmt.Fprintf(os.Stderr, "crdcgen: wrote %d rows (%d of district %s), %d bytes\n", st.Rows, st.DistrictRows, o.LEAID, st.Bytes)
	return nil
}
