package local

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/districtlake/districtlake/internal/term"
)

// WriteValidation prints every document found in the folder with OK, its number of errors
// or why it is ignored, then every problem, then a one-line verdict.
func WriteValidation(w io.Writer, f *Folder) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tKIND\tNAMESPACE/NAME\tRESULT")
	for _, it := range f.Found {
		result := "OK"
		switch {
		case it.Ignored != "":
			result = "ignored: " + it.Ignored
		case it.Errors == 1:
			result = "1 error"
		case it.Errors > 1:
			result = fmt.Sprintf("%d errors", it.Errors)
		}
		name := it.Name
		if it.Namespace != "" {
			name = it.Namespace + "/" + it.Name
		}
		kind := it.Kind
		if kind == "" {
			kind = "?"
		}
		fmt.Fprintf(tw, "%s:%d\t%s\t%s\t%s\n", term.Escape(it.Origin.File), it.Origin.Line, term.Escape(kind), term.Escape(name), term.Escape(result))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(f.Problems) > 0 {
		fmt.Fprintln(w)
		for _, p := range f.Problems {
			fmt.Fprintln(w, term.Text(p.Error()))
		}
	}
	used := 0
	for _, it := range f.Found {
		if it.Ignored == "" {
			used++
		}
	}
	fmt.Fprintln(w)
	switch len(f.Problems) {
	case 0:
		_, err := fmt.Fprintf(w, "OK: %d objects valid (%d DistrictSources, %d SharedSources, %d StateComparisons, %d Lakes, %d ConfigMaps, %d Secrets)\n",
			used, len(f.DistrictSources), len(f.SharedSources), len(f.StateComparisons), len(f.Lakes), len(f.ConfigMaps), len(f.Secrets))
		return err
	case 1:
		_, err := fmt.Fprintln(w, "1 error")
		return err
	default:
		_, err := fmt.Fprintf(w, "%d errors\n", len(f.Problems))
		return err
	}
}
