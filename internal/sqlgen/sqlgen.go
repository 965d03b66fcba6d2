// Package sqlgen writes the DuckDB SQL that opens a lake: an S3 secret for an s3 lake and
// one view per dataset (staffing, incidents, contracts, comparison, comparison_groups) over
// its hive-partitioned Parquet files.
//
// The files carry their partition columns (state, school_year) themselves, and DuckDB's
// hive partitioning takes a column that is both in the path and in the file from the
// path. Left to itself DuckDB also guesses partition types, which would turn
// district=0100005 into the number 100005; the views turn that guessing off
// (hive_types_autocast = false), so every partition column is VARCHAR, as in the files.
// The district partition repeats the files' nces_lea_id and is left out of the views.
package sqlgen

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/term"
)

// Datasets are the datasets a view is made for, in the order they are printed.
var Datasets = []string{
	dataset.Staffing, dataset.Incidents, dataset.Contracts, dataset.Comparison, dataset.ComparisonGroups,
}

// Credentials say how the S3 secret gets its keys.
type Credentials struct {
	// AccessKeyID and SecretAccessKey are written into the secret as they are (the SQL then
	// holds a secret: print it to a terminal or a pipe, never into a file or a log).
	AccessKeyID     string
	SecretAccessKey string
	// Chain writes PROVIDER credential_chain instead: DuckDB reads the keys from its own
	// environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) and the SQL holds no secret.
	// It needs DuckDB's aws extension.
	Chain bool
}

// Options say what to generate.
type Options struct {
	Lake lake.Config
	// Credentials of an s3 lake.
	Credentials Credentials
	// Present names the datasets that have at least one file in the lake. A dataset not in
	// it gets an empty view with the dataset's columns (DuckDB cannot create a view over a
	// glob that matches no file). Nil means every dataset is present.
	Present map[string]bool
}

// Generate returns the SQL.
func Generate(o Options) (string, error) {
	root, err := Root(o.Lake)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	// The root goes into a comment escaped (a newline in a folder name or a prefix must
	// not end the comment) and into string literals quoted (see literal).
	fmt.Fprintf(&b, "-- districtlake: DuckDB views over the lake %s\n", term.Escape(root))
	if o.Lake.Type == lake.TypeS3 {
		writeSecret(&b, o.Lake, o.Credentials)
	}
	for _, ds := range Datasets {
		if o.Present != nil && !o.Present[ds] {
			view, err := emptyView(ds)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "-- no %s files in the lake yet: an empty view with its columns\n%s", ds, view)
			continue
		}
		b.WriteString(View(ds, root))
	}
	return b.String(), nil
}

// Root is the lake's root as DuckDB reads it: s3://bucket/prefix or an absolute folder.
func Root(l lake.Config) (string, error) {
	switch l.Type {
	case lake.TypeS3:
		if l.Bucket == "" {
			return "", fmt.Errorf("s3 lake: no bucket")
		}
		root := "s3://" + l.Bucket
		if p := strings.Trim(l.Prefix, "/"); p != "" {
			root += "/" + p
		}
		return root, nil
	case lake.TypeFile:
		if !path.IsAbs(l.Path) {
			return "", fmt.Errorf("file lake %q: the path must be absolute", l.Path)
		}
		return strings.TrimSuffix(path.Join(l.Path, l.Prefix), "/"), nil
	default:
		return "", fmt.Errorf("lake type %q is not s3 or file", l.Type)
	}
}

// View returns the CREATE VIEW statement of one dataset under root.
func View(ds, root string) string {
	exclude := ""
	if partitionedByDistrict(ds) {
		exclude = " EXCLUDE (district)"
	}
	return fmt.Sprintf("CREATE OR REPLACE VIEW %s AS SELECT *%s FROM read_parquet(%s, hive_partitioning = true, hive_types_autocast = false, union_by_name = true);\n",
		ds, exclude, literal(root+"/"+ds+"/**/*.parquet"))
}

func partitionedByDistrict(ds string) bool {
	switch ds {
	case dataset.Staffing, dataset.Incidents, dataset.Contracts:
		return true
	}
	return false
}

func writeSecret(b *strings.Builder, l lake.Config, c Credentials) {
	scope := "s3://" + l.Bucket
	params := []string{"TYPE s3"}
	if c.Chain {
		b.WriteString("-- The secret reads the keys from DuckDB's environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).\n")
		params = append(params, "PROVIDER credential_chain", "CHAIN 'env'")
	} else {
		b.WriteString("-- This SQL holds the lake's secret key: run it from a pipe or <(...), never save it to a file.\n")
		params = append(params, "KEY_ID "+literal(c.AccessKeyID), "SECRET "+literal(c.SecretAccessKey))
	}
	region := l.Region
	if region == "" {
		region = "us-east-1"
	}
	params = append(params, "REGION "+literal(region))
	if l.Endpoint != "" && l.Endpoint != "s3.amazonaws.com" {
		params = append(params, "ENDPOINT "+literal(l.Endpoint))
	}
	style := "vhost"
	if l.PathStyle {
		style = "path"
	}
	params = append(params, "URL_STYLE "+literal(style), fmt.Sprintf("USE_SSL %t", l.Secure), "SCOPE "+literal(scope))
	fmt.Fprintf(b, "CREATE OR REPLACE SECRET districtlake (%s);\n", strings.Join(params, ", "))
}

// emptyView is a view with the dataset's columns and no rows.
func emptyView(ds string) (string, error) {
	var s *arrow.Schema
	switch ds {
	case dataset.Comparison:
		s = dataset.ComparisonSchema()
	case dataset.ComparisonGroups:
		s = dataset.ComparisonGroupsSchema()
	default:
		s = dataset.Schema(ds)
	}
	if s == nil {
		return "", fmt.Errorf("dataset %q has no schema", ds)
	}
	cols := make([]string, 0, s.NumFields())
	for _, f := range s.Fields() {
		t, err := duckType(f.Type)
		if err != nil {
			return "", fmt.Errorf("dataset %s column %s: %w", ds, f.Name, err)
		}
		cols = append(cols, fmt.Sprintf("CAST(NULL AS %s) AS %s", t, f.Name))
	}
	return fmt.Sprintf("CREATE OR REPLACE VIEW %s AS SELECT %s WHERE false;\n", ds, strings.Join(cols, ", ")), nil
}

// duckType is the DuckDB type DuckDB reads an Arrow column of type t as from Parquet.
func duckType(t arrow.DataType) (string, error) {
	switch t := t.(type) {
	case *arrow.StringType, *arrow.LargeStringType:
		return "VARCHAR", nil
	case *arrow.Int32Type:
		return "INTEGER", nil
	case *arrow.Int64Type:
		return "BIGINT", nil
	case *arrow.Float64Type:
		return "DOUBLE", nil
	case *arrow.BooleanType:
		return "BOOLEAN", nil
	case *arrow.Date32Type:
		return "DATE", nil
	case *arrow.Decimal128Type:
		return fmt.Sprintf("DECIMAL(%d,%d)", t.Precision, t.Scale), nil
	case *arrow.TimestampType:
		if t.TimeZone != "" {
			return "TIMESTAMP WITH TIME ZONE", nil
		}
		return "TIMESTAMP", nil
	}
	return "", fmt.Errorf("no DuckDB type for %s", t)
}

// literal quotes s as a SQL string. DuckDB's standard strings take every character but the
// quote as it is (a backslash or a newline is part of the string, no escape), so doubling
// the quote is all it takes to keep s inside the literal.
func literal(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// Present lists which datasets have at least one Parquet file in the lake.
func Present(ctx context.Context, store lake.Store) (map[string]bool, error) {
	out := map[string]bool{}
	for _, ds := range Datasets {
		objs, err := store.List(ctx, ds+"/")
		if err != nil {
			return nil, fmt.Errorf("listing %s in %s: %w", ds, store.URL(), err)
		}
		for _, o := range objs {
			if strings.HasSuffix(o.Key, ".parquet") {
				out[ds] = true
				break
			}
		}
	}
	return out, nil
}
