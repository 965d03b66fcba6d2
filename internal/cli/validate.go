package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/districtlake/districtlake/internal/guard"
	"github.com/districtlake/districtlake/internal/local"
)

func newValidateCommand() *cobra.Command {
	var dir, images string
	cmd := &cobra.Command{
		Use:   "validate -f DIR",
		Short: "Check the YAML in a folder against the API's rules",
		Long: `Reads every *.yaml and *.yml file under DIR (the files kubectl apply -f DIR takes) and checks
each DistrictSource, StateComparison and Lake with the CRDs' own OpenAPI schemas and CEL rules,
as the API server would, plus what the operator checks before it creates a CronJob, with the
operator's own code: cron schedules and time zones (no TZ= or CRON_TZ= in a schedule, no
timeZone: Local), and that the Lakes, ConfigMaps (and their keys) and the keys of the Secrets in
the folder that an object refers to resolve. A spec.job.image must be in --allowed-job-images
(the manager's flag of the same name; empty, as the manager's default, allows none), or the
object is refused as the controller stalls it (ImageNotAllowed). Prints each object with OK or its errors; exits 1
when there is any error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			allowed, err := guard.ParseJobImages(images)
			if err != nil {
				return fmt.Errorf("--allowed-job-images: %w", err)
			}
			f, err := local.Load(cmd.Context(), dir)
			if err != nil {
				return err
			}
			f.CheckJobImages(allowed)
			if err := local.WriteValidation(cmd.OutOrStdout(), f); err != nil {
				return err
			}
			if len(f.Problems) > 0 {
				return fmt.Errorf("%s is not valid (%d errors)", dir, len(f.Problems))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&dir, "filename", "f", "", "folder (or file) of YAML to check")
	cmd.Flags().StringVar(&images, "allowed-job-images", "", "the cluster's --allowed-job-images: comma-separated images, or prefixes ending in '*', that spec.job.image may name; empty allows none")
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}
