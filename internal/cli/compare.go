package cli

import (
	goflag "flag"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/districtlake/districtlake/internal/compare"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/summary"
)

// compareFlags are the compare subcommand's flags.
type compareFlags struct {
	planPath       string
	lakeURL        string
	terminationLog string
	runID          string
	concurrency    int
	noReport       bool
	zap            zap.Options
}

func newCompareCommand() *cobra.Command {
	f := &compareFlags{}
	cmd := &cobra.Command{
		Use:   "compare --plan FILE",
		Short: "Run one StateComparison's plan",
		Long: "Compare every district of a state from the lake's staffing, incidents and contracts\n" +
			"files, and publish the comparison and comparison_groups datasets and an HTML report\n" +
			"for each school year of the plan. A failed run publishes nothing. The run's summary\n" +
			"(JSON) goes to --termination-log on success and on failure.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCompare(cmd, f) },
	}
	fs := cmd.Flags()
	fs.StringVar(&f.planPath, "plan", "", "compare plan (JSON) to run")
	fs.StringVar(&f.lakeURL, "lake", "", "lake to use instead of the plan's: s3://bucket/prefix (credentials from AWS_* variables) or a folder")
	fs.StringVar(&f.terminationLog, "termination-log", summary.DefaultPath, "where to write the run's summary")
	fs.StringVar(&f.runID, "run-id", "", "run ID written into the files (a new one when empty)")
	fs.IntVar(&f.concurrency, "concurrency", 0, "district files read at once (0: one per CPU)")
	fs.BoolVar(&f.noReport, "no-report", false, "skip the HTML report")
	_ = cmd.MarkFlagRequired("plan")
	gofs := goflag.NewFlagSet("zap", goflag.ContinueOnError)
	f.zap.BindFlags(gofs)
	fs.AddGoFlagSet(gofs)
	return cmd
}

func runCompare(cmd *cobra.Command, f *compareFlags) error {
	log := zap.New(zap.UseFlagOptions(&f.zap), zap.WriteTo(cmd.ErrOrStderr())).WithName("compare")
	ctx := cmd.Context()
	opts := compare.Options{RunID: f.runID, Log: log, Concurrency: f.concurrency, NoReport: f.noReport}
	fail := func(err error) error {
		s := summary.Summary{RunID: f.runID, Outcome: summary.Failed, Message: err.Error()}
		if werr := summary.Write(f.terminationLog, s); werr != nil {
			log.Error(werr, "Failed to write the run summary", "path", f.terminationLog)
		}
		return err
	}
	p, err := plan.ReadCompare(f.planPath)
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
	log.Info("Started comparison", "state", p.State, "schoolYears", p.SchoolYears, "lake", store.URL())
	sum, runErr := compare.Run(ctx, p, store, opts)
	if err := summary.Write(f.terminationLog, sum); err != nil {
		log.Error(err, "Failed to write the run summary", "path", f.terminationLog)
	}
	if runErr != nil {
		return runErr
	}
	printObjects(cmd.OutOrStdout(), sum)
	log.Info("Finished comparison", "state", p.State, "districts", sum.Districts, "runID", sum.RunID)
	return nil
}

func printObjects(w io.Writer, s summary.Summary) {
	for _, o := range s.Objects {
		fmt.Fprintf(w, "%-17s %6d rows  %s\n", o.Dataset, o.Rows, o.Key)
	}
}
