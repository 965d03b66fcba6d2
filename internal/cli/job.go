package cli

import (
	"context"
	goflag "flag"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/districtlake/districtlake/internal/egress"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/memlimit"
	"github.com/districtlake/districtlake/internal/redact"
	"github.com/districtlake/districtlake/internal/summary"
)

// jobFlags are the flags the two Job subcommands, ingest and compare, share.
type jobFlags struct {
	planPath       string
	lakeURL        string
	terminationLog string
	runID          string
	memoryLimit    string
	zap            zap.Options
	// egress is the plan's egress policy, which the lake's client obeys too.
	egress egress.Policy
}

// bind adds the shared flags (and the zap logging flags) to fs; kind names the plan.
func (f *jobFlags) bind(fs *pflag.FlagSet, kind string) {
	fs.StringVar(&f.planPath, "plan", "", kind+" plan (JSON) to run")
	fs.StringVar(&f.lakeURL, "lake", "", "lake to use instead of the plan's: s3://bucket/prefix (credentials from AWS_* variables), file:///path or a folder")
	fs.StringVar(&f.terminationLog, "termination-log", summary.DefaultPath, "where to write the run's summary")
	fs.StringVar(&f.runID, "run-id", "", "run ID written into the files (a new one when empty)")
	bindMemoryLimit(fs, &f.memoryLimit)
	gofs := goflag.NewFlagSet("zap", goflag.ContinueOnError)
	f.zap.BindFlags(gofs)
	fs.AddGoFlagSet(gofs)
}

// logger is the structured logger the flags ask for, writing to the command's stderr.
func (f *jobFlags) logger(cmd *cobra.Command, name string) logr.Logger {
	return zap.New(zap.UseFlagOptions(&f.zap), zap.WriteTo(cmd.ErrOrStderr())).WithName(name)
}

// runJob reads the plan with read (which returns the plan's lake, so --lake can replace it),
// opens the lake, runs job and writes the run's summary to --termination-log whether it
// succeeded or failed, so the controller can read either.
func (f *jobFlags) runJob(ctx context.Context, log logr.Logger, read func() (*lake.Config, error),
	job func(context.Context, lake.Store) (summary.Summary, error)) (summary.Summary, error) {
	sum, err := summary.Summary{}, applyMemoryLimit(log, f.memoryLimit)
	if err == nil {
		sum, err = f.openAndRun(ctx, read, job)
	}
	err = redact.Error(err)
	if err != nil && sum.Outcome != summary.Failed {
		sum = summary.Summary{RunID: f.runID, Outcome: summary.Failed, Message: err.Error()}
	}
	if werr := summary.Write(f.terminationLog, sum); werr != nil {
		log.Error(werr, "Failed to write the run summary", "path", f.terminationLog)
	}
	return sum, err
}

// bindMemoryLimit adds the --memory-limit flag to fs.
func bindMemoryLimit(fs *pflag.FlagSet, v *string) {
	fs.StringVar(v, "memory-limit", memlimit.Auto, "soft memory limit of the Go heap: auto (80% of the container's (cgroup's) memory limit, none without one), off, or a quantity such as 200Mi; GOMEMLIMIT, when set, wins")
}

// applyMemoryLimit sets the soft memory limit --memory-limit asks for and logs it.
func applyMemoryLimit(log logr.Logger, value string) error {
	limit, from, err := memlimit.Apply(value, memlimit.OS())
	if err != nil {
		return err
	}
	if limit > 0 {
		log.V(1).Info("Set the soft memory limit", "bytes", limit, "from", from)
	}
	return nil
}

// checkGCPercent refuses a --gc-percent below 1: Go reads a negative GOGC as "off", and a
// flag that can switch the collector off by a typo is not one to accept.
func checkGCPercent(percent int) error {
	if percent < 1 {
		return fmt.Errorf("--gc-percent is %d; it must be at least 1", percent)
	}
	return nil
}

// applyGCPercent sets the garbage collector's target percentage (--gc-percent) unless the
// GOGC environment variable sets one, which wins.
func applyGCPercent(percent int) {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(percent)
	}
}

func (f *jobFlags) openAndRun(ctx context.Context, read func() (*lake.Config, error),
	job func(context.Context, lake.Store) (summary.Summary, error)) (summary.Summary, error) {
	planLake, err := read()
	if err != nil {
		return summary.Summary{}, err
	}
	if f.lakeURL != "" {
		if *planLake, err = lake.ParseURL(f.lakeURL, lake.OSEnv()); err != nil {
			return summary.Summary{}, fmt.Errorf("--lake: %w", err)
		}
	}
	store, err := lake.New(ctx, *planLake, lake.OSEnv(), lake.WithEgress(f.egress))
	if err != nil {
		return summary.Summary{}, fmt.Errorf("opening the lake: %w", err)
	}
	sum, err := job(ctx, store)
	if err != nil {
		return sum, err
	}
	if err := store.Sync(ctx); err != nil {
		return summary.Summary{}, err
	}
	return sum, nil
}
