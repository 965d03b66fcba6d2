package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(owner of this subcommand): replace this placeholder.
func newIngestCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "ingest",
		Short: "Run one DistrictSource's ingest plan",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("ingest is not built yet")
		},
	}
}
