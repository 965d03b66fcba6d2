package cli

import (
	"strings"
	"testing"
)

func TestManagerFlags(t *testing.T) {
	cmd := newManagerCommand()
	for flag, want := range map[string]string{
		"metrics-bind-address":      ":8080",
		"health-probe-bind-address": ":8081",
		"leader-elect":              "false",
		"job-image":                 "ghcr.io/districtlake/districtlake:latest",
		"job-image-pull-policy":     "IfNotPresent",
	} {
		f := cmd.Flags().Lookup(flag)
		if f == nil {
			t.Fatalf("manager has no --%s flag", flag)
		}
		if f.DefValue != want {
			t.Errorf("--%s defaults to %q, want %q", flag, f.DefValue, want)
		}
	}
	for _, flag := range []string{"zap-log-level", "zap-encoder", "zap-devel"} {
		if cmd.Flags().Lookup(flag) == nil {
			t.Errorf("manager has no --%s flag", flag)
		}
	}
}

func TestManagerRejectsBadPullPolicy(t *testing.T) {
	root := NewRootCommand()
	root.SetArgs([]string{"manager", "--job-image-pull-policy=Sometimes"})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), `--job-image-pull-policy "Sometimes" is not Always, IfNotPresent or Never`) {
		t.Fatalf("got %v", err)
	}
}
