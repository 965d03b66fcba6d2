package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(owner of this subcommand): replace this placeholder.
func newManagerCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "manager",
		Short: "Run the operator's controller manager",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("manager is not built yet")
		},
	}
}
