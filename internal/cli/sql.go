package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/sqlgen"
	"github.com/districtlake/districtlake/internal/term"
)

func newSQLCommand() *cobra.Command {
	var lakeURL string
	var chain bool
	cmd := &cobra.Command{
		Use:   "sql --lake URL",
		Short: "Print DuckDB SQL that opens the lake",
		Long: `Prints DuckDB SQL that opens the lake: one view per dataset (staffing, incidents, contracts,
comparison, comparison_groups) over its hive-partitioned Parquet files, and for an s3:// lake an
S3 secret first. Open the lake with

  duckdb -init <(districtlake sql --lake ./lake)
  districtlake sql --lake ./lake | duckdb

--lake is a folder (./lake, file:///abs/path) or s3://bucket/prefix. For s3, the endpoint comes
from DISTRICTLAKE_S3_ENDPOINT or AWS_ENDPOINT_URL (an http:// URL or DISTRICTLAKE_S3_INSECURE=true
turns TLS off), the region from AWS_REGION and the keys from AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY.

The S3 secret holds those keys, so the SQL printed for an s3 lake contains the secret access key:
that is on purpose (DuckDB needs it and its httpfs extension reads nothing else without the aws
extension), so send it to DuckDB through a pipe or <(...) and never into a file. With
--credential-chain the secret reads the keys from DuckDB's own environment instead and the SQL
holds no secret (needs DuckDB's aws extension).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env := lake.OSEnv()
			l, err := lake.ParseURL(lakeURL, env)
			if err != nil {
				return err
			}
			opts := sqlgen.Options{Lake: l, Credentials: sqlgen.Credentials{Chain: chain}}
			if l.Type == lake.TypeS3 && !chain {
				id, secret, err := lake.Credentials(l, env)
				if err != nil {
					return fmt.Errorf("%w (or use --credential-chain)", err)
				}
				opts.Credentials.AccessKeyID, opts.Credentials.SecretAccessKey = id, secret
			}
			store, err := lake.New(cmd.Context(), l, env)
			if err == nil {
				opts.Present, err = sqlgen.Present(cmd.Context(), store)
			}
			if err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "Warning: could not list the lake (%s); every view reads its files\n", term.Text(err.Error()))
				opts.Present = nil
			}
			out, err := sqlgen.Generate(opts)
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), out)
			return err
		},
	}
	cmd.Flags().StringVar(&lakeURL, "lake", "", "the lake: a folder, file:///path or s3://bucket/prefix")
	cmd.Flags().BoolVar(&chain, "credential-chain", false, "let DuckDB read the S3 keys from its environment instead of printing them")
	_ = cmd.MarkFlagRequired("lake")
	return cmd
}
