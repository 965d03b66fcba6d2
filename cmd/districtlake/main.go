// Command districtlake is the one binary of districtlake: the operator's manager, the Jobs'
// ingest and compare, and the local run, validate and sql commands.
package main

import (
	"os"

	"github.com/districtlake/districtlake/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
