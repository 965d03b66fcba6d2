package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(owner of this subcommand): replace this placeholder.
func newValidateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check the YAML in a folder against the API's rules",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("validate is not built yet")
		},
	}
}
