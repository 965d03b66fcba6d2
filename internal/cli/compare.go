package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(owner of this subcommand): replace this placeholder.
func newCompareCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "compare",
		Short: "Run one StateComparison's plan",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("compare is not built yet")
		},
	}
}
