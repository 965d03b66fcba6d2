package cli

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/districtlake/districtlake/config/samples"
	"github.com/districtlake/districtlake/internal/local"
)

func newRunCommand() *cobra.Command {
	var o local.RunOptions
	var dir string
	var eg egressFlags
	var memoryLimit string
	var cpuProfile, memProfile string
	var gcPercent int
	cmd := &cobra.Command{
		Use:   "run [-f DIR] [--lake LAKE]",
		Short: "Ingest and compare the YAML in a folder without a cluster",
		Long: `Reads every DistrictSource, StateComparison, Lake, ConfigMap and Secret in the YAML files under
DIR (the files kubectl apply -f DIR takes), checks them as the API server would (see validate),
ingests each district into LAKE (several at once), runs each StateComparison and prints a table
per state, the path of each HTML report and the line that opens the lake in DuckDB.

LAKE replaces the folder's Lakes: a folder (./lake, file:///abs/path) or s3://bucket/prefix with
the endpoint and keys from the environment (see districtlake sql --help). Sources that read a
ConfigMap read the folder's ConfigMaps; a Secret a source needs (such as an HTTP header) comes
from the folder's Secrets or else from the environment variable the plan names for it.

A district that fails is reported with its error (source, row and column) and the others go on;
the exit status is then 1.

Without -f, the samples built into the binary are run (the same files as config/samples: four
districts in WI, IL and MO whose staffing and incident numbers are made up); LAKE defaults to
./lake.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkGCPercent(gcPercent); err != nil {
				return err
			}
			if err := applyMemoryLimit(logr.Discard(), memoryLimit); err != nil {
				return err
			}
			applyGCPercent(gcPercent)
			if dir == "" {
				tmp, err := os.MkdirTemp("", "districtlake-samples-")
				if err != nil {
					return fmt.Errorf("unpacking the built-in samples: %w", err)
				}
				defer os.RemoveAll(tmp)
				if err := samples.WriteTo(tmp); err != nil {
					return err
				}
				dir = tmp
				fmt.Fprintln(cmd.ErrOrStderr(), "Using the built-in samples (config/samples); -f DIR runs your own folder")
			}
			o.Egress = eg.policy()
			if err := o.Egress.Validate(); err != nil {
				return err
			}
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			f, err := local.Load(cmd.Context(), dir)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if err := f.Err(); err != nil {
				_ = local.WriteValidation(out, f)
				return fmt.Errorf("%s is not valid (%d errors); nothing was run", dir, len(f.Problems))
			}
			o.Out = out
			if file, ok := out.(*os.File); ok {
				o.Terminal = term.IsTerminal(int(file.Fd()))
			}
			o.Command = selfCommand()
			_, err = local.Run(cmd.Context(), f, o)
			if memProfile != "" {
				if perr := writeHeapProfile(memProfile); perr != nil && err == nil {
					err = perr
				}
			}
			return err
		},
	}
	bindMemoryLimit(cmd.Flags(), &memoryLimit)
	cmd.Flags().StringVarP(&dir, "filename", "f", "", "folder (or file) of YAML to run; the built-in samples when empty")
	cmd.Flags().StringVar(&o.Lake, "lake", "./lake", "the lake: a folder, file:///path or s3://bucket/prefix")
	cmd.Flags().IntVar(&o.Concurrency, "concurrency", 4, "districts ingested at once")
	cmd.Flags().StringVar(&o.State, "state", "", "run only this state's districts and comparison (such as WI)")
	cmd.Flags().IntVar(&gcPercent, "gc-percent", runGCPercent, "how far (percent) the Go heap grows over its live data before a garbage collection (Go's GOGC, which wins when set); lower it to trade CPU for memory")
	eg.bind(cmd.Flags(), true, "the http and s3 sources")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile (go tool pprof) of the run to this file")
	_ = cmd.Flags().MarkHidden("cpuprofile")
	cmd.Flags().StringVar(&memProfile, "memprofile", "", "write a heap profile (go tool pprof) at the end of the run to this file")
	_ = cmd.Flags().MarkHidden("memprofile")
	return cmd
}

// runGCPercent is the run's default GOGC. A run allocates much and keeps little (a national
// run: 13 GB allocated over 13,000 districts, 45 to 140 MB live), so Go's default of 100
// spent a fifth of the run's CPU in 318 collections; 200 made 143, with a peak RSS of
// 361 MiB (300: 89 collections, 487 MiB, too near the run's 512 MiB target). With the
// district files written by smallparquet (far fewer allocations), 400 took the same time as
// 200 with a peak RSS of 468 MiB against 266 (2026-12-04).
const runGCPercent = 200

// writeHeapProfile writes the heap's profile to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating the heap profile: %w", err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		return fmt.Errorf("writing the heap profile: %w", err)
	}
	return f.Close()
}

// startCPUProfile profiles the process's CPU into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("creating the CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting the CPU profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// selfCommand is how the user can run districtlake again: "go run ./cmd/districtlake" when
// this binary was built by go run, else "districtlake".
func selfCommand() string {
	if exe, err := os.Executable(); err == nil && strings.Contains(exe, "go-build") {
		return "go run ./cmd/districtlake"
	}
	return "districtlake"
}
