package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/land"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/summary"
)

// landFlags are the land subcommand's flags.
type landFlags struct {
	jobFlags
	tempDir string
}

func newLandCommand() *cobra.Command {
	f := &landFlags{}
	cmd := &cobra.Command{
		Use:   "land --plan FILE",
		Short: "Run one SharedSource's plan",
		Long: "Fetch a shared (national) file, conditionally on the last fetch's ETag and\n" +
			"Last-Modified, and land it in the lake as one object per district under a new\n" +
			"revision, writing the revision's manifest last. An unchanged file downloads\n" +
			"nothing. The run's summary (JSON) goes to --termination-log on success and on failure.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLand(cmd, f) },
	}
	fs := cmd.Flags()
	f.bind(fs, "land")
	fs.StringVar(&f.tempDir, "temp-dir", "", "scratch space for a ZIP archive fetched without range requests ($TMPDIR when empty)")
	_ = cmd.MarkFlagRequired("plan")
	return cmd
}

func runLand(cmd *cobra.Command, f *landFlags) error {
	log := f.logger(cmd, "land")
	var p *plan.Land
	read := func() (*lake.Config, error) {
		var err error
		if p, err = plan.ReadLand(f.planPath); err != nil {
			return nil, err
		}
		return &p.Lake, nil
	}
	sum, err := f.runJob(cmd.Context(), log, read, func(ctx context.Context, store lake.Store) (summary.Summary, error) {
		log.Info("Started landing", "sharedSource", p.Name, "lake", store.URL())
		s, err := land.Run(ctx, p, store, lake.OSEnv(), land.Options{TempDir: f.tempDir, Log: log})
		s.RunID = f.runID
		return s, err
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), sum.Message)
	return nil
}
