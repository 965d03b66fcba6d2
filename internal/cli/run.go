package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(owner of this subcommand): replace this placeholder.
func newRunCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Ingest and compare the YAML in a folder without a cluster",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("run is not built yet")
		},
	}
}
