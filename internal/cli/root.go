// Package cli holds the districtlake command line: one cobra command per subcommand, each in
// its own file.
package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/districtlake/districtlake/internal/term"
)

// Main runs the command line with args and returns the process exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := NewRootCommand()
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", term.Text(err.Error()))
		return 1
	}
	return 0
}

// NewRootCommand builds the districtlake command and its subcommands.
func NewRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "districtlake",
		Short:         "Collect school-district staffing, incident and police-contract data into a Parquet lake",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newManagerCommand(),
		newIngestCommand(),
		newCompareCommand(),
		newLandCommand(),
		newRunCommand(),
		newValidateCommand(),
		newSQLCommand(),
		newVersionCommand(),
	)
	return root
}
