// Package memlimit sets the Go runtime's soft memory limit for the subcommands that move
// data (ingest, compare, run), so that the garbage collector works harder as the process
// nears its container's memory limit instead of letting the heap grow to twice what is
// live (GOGC=100) and the kernel kill the process.
//
// The limit comes from, in order: the GOMEMLIMIT variable (which the runtime has already
// applied, and which is left alone), the --memory-limit flag (a quantity such as 200Mi,
// or "off"), or, by default ("auto"), Fraction of the memory limit of the process's
// cgroup (a container's limit in Kubernetes); without any of them there is no limit.
package memlimit

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Fraction is the part of a cgroup's memory limit that "auto" gives the Go heap: the rest
// is left to the runtime's own memory (stacks, fragmentation, freed pages not yet
// returned) and to anything else in the container.
const Fraction = 0.8

// Values of the flag besides a quantity.
const (
	Auto = "auto"
	Off  = "off"
)

// Where a limit came from.
const (
	FromEnv    = "GOMEMLIMIT"
	FromFlag   = "flag"
	FromCgroup = "cgroup"
)

// The cgroup files that hold a memory limit, v2 and v1.
const (
	cgroupV2File = "/sys/fs/cgroup/memory.max"
	cgroupV1File = "/sys/fs/cgroup/memory/memory.limit_in_bytes"
)

// System is what Resolve reads: the environment and files (os.Getenv and os.ReadFile).
type System struct {
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error)
}

// OS is the running process's environment and files.
func OS() System { return System{Getenv: os.Getenv, ReadFile: os.ReadFile} }

// Resolve says which soft limit (bytes) value asks for, and where it came from; a limit
// of 0 means none to set (from is FromEnv when GOMEMLIMIT already set one).
func Resolve(value string, sys System) (limit int64, from string, err error) {
	if v := sys.Getenv("GOMEMLIMIT"); v != "" {
		return 0, FromEnv, nil
	}
	switch v := strings.TrimSpace(value); v {
	case Off, "0":
		return 0, "", nil
	case Auto, "":
		n, ok := cgroupLimit(sys)
		if !ok {
			return 0, "", nil
		}
		return int64(float64(n) * Fraction), FromCgroup, nil
	default:
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return 0, "", fmt.Errorf("--memory-limit %q: want auto, off or a quantity such as 200Mi", v)
		}
		if q.Sign() <= 0 {
			return 0, "", fmt.Errorf("--memory-limit %q: want a positive quantity", v)
		}
		return q.Value(), FromFlag, nil
	}
}

// cgroupLimit reads the process's cgroup memory limit; ok is false when there is none.
func cgroupLimit(sys System) (int64, bool) {
	for _, f := range []string{cgroupV2File, cgroupV1File} {
		b, err := sys.ReadFile(f)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		// cgroup v1 writes a page-rounded MaxInt64 for "no limit".
		if err != nil || n <= 0 || n >= math.MaxInt64/2 {
			return 0, false
		}
		return n, true
	}
	return 0, false
}

// Apply resolves value and sets the runtime's soft memory limit; it returns the limit
// set (0: none) and where it came from.
func Apply(value string, sys System) (int64, string, error) {
	limit, from, err := Resolve(value, sys)
	if err != nil {
		return 0, "", err
	}
	if from == FromEnv {
		return debug.SetMemoryLimit(-1), from, nil
	}
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	return limit, from, nil
}
