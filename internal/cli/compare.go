package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/districtlake/districtlake/internal/compare"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/summary"
)

// compareFlags are the compare subcommand's flags.
type compareFlags struct {
	jobFlags
	concurrency int
	noReport    bool
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
	f.bind(fs, "compare")
	fs.IntVar(&f.concurrency, "concurrency", 0, "district files read at once (0: one per CPU)")
	fs.BoolVar(&f.noReport, "no-report", false, "skip the HTML report")
	_ = cmd.MarkFlagRequired("plan")
	return cmd
}

func runCompare(cmd *cobra.Command, f *compareFlags) error {
	log := f.logger(cmd, "compare")
	var p *plan.Compare
	read := func() (*plan.Lake, error) {
		var err error
		if p, err = plan.ReadCompare(f.planPath); err != nil {
			return nil, err
		}
		f.egress = p.Egress
		return &p.Lake, nil
	}
	sum, err := f.runJob(cmd.Context(), log, read, func(ctx context.Context, store lake.Store) (summary.Summary, error) {
		log.Info("Started comparison", "state", p.State, "schoolYears", p.SchoolYears, "lake", store.URL())
		opts := compare.Options{RunID: f.runID, Log: log, Concurrency: f.concurrency, NoReport: f.noReport}
		return compare.Run(ctx, p, store, opts)
	})
	if err != nil {
		return err
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
