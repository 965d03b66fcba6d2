package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/districtlake/districtlake/internal/ingest"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/summary"
)

// ingestFlags are the ingest subcommand's flags.
type ingestFlags struct {
	jobFlags
	tempDir string
}

func newIngestCommand() *cobra.Command {
	f := &ingestFlags{}
	cmd := &cobra.Command{
		Use:   "ingest --plan FILE",
		Short: "Run one DistrictSource's ingest plan",
		Long: "Fetch every source of a DistrictSource's plan, map it onto the canonical staffing,\n" +
			"incidents and contracts datasets, check it, and publish one Parquet file per dataset\n" +
			"to the lake, plus the run manifest _runs/<run-id>.json. A failed run publishes\n" +
			"nothing and leaves the lake as it was. The run's summary (JSON) goes to\n" +
			"--termination-log on success and on failure; the exit code is non-zero on failure.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runIngest(cmd, f) },
	}
	fs := cmd.Flags()
	f.bind(fs, "ingest")
	fs.StringVar(&f.tempDir, "temp-dir", "", "folder for Parquet sources and the scratch copy of a ZIP archive whose server answers no range requests ($TMPDIR when empty)")
	_ = cmd.MarkFlagRequired("plan")
	return cmd
}

func runIngest(cmd *cobra.Command, f *ingestFlags) error {
	log := f.logger(cmd, "ingest")
	var p *plan.Ingest
	read := func() (*plan.Lake, error) {
		var err error
		if p, err = plan.ReadIngest(f.planPath); err != nil {
			return nil, err
		}
		f.egress = p.Egress
		return &p.Lake, nil
	}
	sum, err := f.runJob(cmd.Context(), log, read, func(ctx context.Context, store lake.Store) (summary.Summary, error) {
		opts := ingest.Options{Log: log, RunID: f.runID, TempDir: f.tempDir}
		return ingest.Run(ctx, p, store, lake.OSEnv(), opts)
	})
	if err != nil {
		return err
	}
	printIngest(cmd.OutOrStdout(), sum)
	return nil
}

func printIngest(w io.Writer, s summary.Summary) {
	for _, o := range s.Objects {
		fmt.Fprintf(w, "%-10s %8d rows  %s\n", o.Dataset, o.Rows, o.Key)
	}
	if s.Manifest != "" {
		fmt.Fprintf(w, "manifest %s\n", s.Manifest)
	}
}
