package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(owner of this subcommand): replace this placeholder.
func newSQLCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "sql",
		Short: "Print DuckDB SQL that opens the lake",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("sql is not built yet")
		},
	}
}
