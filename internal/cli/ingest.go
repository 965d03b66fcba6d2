package cli

import (
	goflag "flag"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/districtlake/districtlake/internal/ingest"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/summary"
)

// ingestFlags are the ingest subcommand's flags.
type ingestFlags struct {
	planPath       string
	lakeURL        string
	terminationLog string
	runID          string
	tempDir        string
	zap            zap.Options
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
	fs.StringVar(&f.planPath, "plan", "", "ingest plan (JSON) to run")
	fs.StringVar(&f.lakeURL, "lake", "", "lake to use instead of the plan's: s3://bucket/prefix (credentials from AWS_* variables), file:///path or a folder")
	fs.StringVar(&f.terminationLog, "termination-log", summary.DefaultPath, "where to write the run's summary")
	fs.StringVar(&f.runID, "run-id", "", "run ID written into the files (a new one when empty)")
	fs.StringVar(&f.tempDir, "temp-dir", "", "folder for Parquet sources while they are read (the system's when empty)")
	_ = cmd.MarkFlagRequired("plan")
	gofs := goflag.NewFlagSet("zap", goflag.ContinueOnError)
	f.zap.BindFlags(gofs)
	fs.AddGoFlagSet(gofs)
	return cmd
}

func runIngest(cmd *cobra.Command, f *ingestFlags) error {
	log := zap.New(zap.UseFlagOptions(&f.zap), zap.WriteTo(cmd.ErrOrStderr())).WithName("ingest")
	ctx := cmd.Context()
	fail := func(err error) error {
		s := summary.Summary{RunID: f.runID, Outcome: summary.Failed, Message: err.Error()}
		if werr := summary.Write(f.terminationLog, s); werr != nil {
			log.Error(werr, "Failed to write the run summary", "path", f.terminationLog)
		}
		return err
	}
	p, err := plan.ReadIngest(f.planPath)
	if err != nil {
		return fail(err)
	}
	if f.lakeURL != "" {
		if p.Lake, err = lake.ParseURL(f.lakeURL, lake.OSEnv()); err != nil {
			return fail(fmt.Errorf("--lake: %w", err))
		}
	}
	store, err := lake.New(ctx, p.Lake, lake.OSEnv())
	if err != nil {
		return fail(fmt.Errorf("opening the lake: %w", err))
	}
	opts := ingest.Options{Log: log, RunID: f.runID, TempDir: f.tempDir}
	sum, runErr := ingest.Run(ctx, p, store, lake.OSEnv(), opts)
	if err := summary.Write(f.terminationLog, sum); err != nil {
		log.Error(err, "Failed to write the run summary", "path", f.terminationLog)
	}
	if runErr != nil {
		return runErr
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
