package dataset_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/districtlake/districtlake/internal/dataset"
)

func TestNewRunID(t *testing.T) {
	at := time.Date(2026, 11, 26, 14, 5, 1, 999, time.FixedZone("CET", 3600))
	a, b := dataset.NewRunID(at), dataset.NewRunID(at.Add(time.Second))
	if !regexp.MustCompile(`^20261126T130501Z-[0-9a-f]{8}$`).MatchString(a) {
		t.Fatalf("run id %q: want 20261126T130501Z-<8 hex> (UTC)", a)
	}
	if a >= b {
		t.Errorf("run ids %q, %q do not sort by time", a, b)
	}
	if c := dataset.NewRunID(at); c == a {
		t.Errorf("two run ids of the same second are both %q", a)
	}
	for _, id := range []string{a, b, "20261126T130501Z-cli001", "run-1", "bench.2"} {
		if err := dataset.CheckRunID(id); err != nil {
			t.Errorf("CheckRunID(%q): %v", id, err)
		}
	}
	for _, id := range []string{"", "../x", "a/b", "a b", strings.Repeat("x", 129)} {
		if err := dataset.CheckRunID(id); err == nil {
			t.Errorf("CheckRunID(%q) accepted it", id)
		}
	}
}
