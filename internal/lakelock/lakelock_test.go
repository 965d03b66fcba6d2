//go:build unix

package lakelock

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func touch(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// A run alone on the lake removes what killed runs left; a run that starts while another
// is writing leaves the other's temporary files alone.
func TestOpenSweepsLeftoversOnlyWhenAlone(t *testing.T) {
	root := t.TempDir()
	left := filepath.Join(root, "staffing/state=WI/school_year=2020-21/district=5508520/.tmp-data.parquet-123")
	data := filepath.Join(root, "staffing/state=WI/school_year=2020-21/district=5508520/data.parquet")
	touch(t, left)
	touch(t, data)
	ctx := context.Background()
	first, err := Open(ctx, root, ".tmp-")
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if first.Swept != 1 || exists(left) || !exists(data) {
		t.Fatalf("swept %d; left-over there: %t; data there: %t; want 1, false, true", first.Swept, exists(left), exists(data))
	}
	writing := filepath.Join(root, "incidents/state=WI/school_year=2020-21/district=5508520/.tmp-data.parquet-456")
	touch(t, writing) // the first run is writing this
	second, err := Open(ctx, root, ".tmp-")
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if second.Swept != 0 || !exists(writing) {
		t.Fatalf("a second run swept %d files (the first run's file there: %t)", second.Swept, exists(writing))
	}
}

// Two runs of one district take turns; other districts do not wait.
func TestDistrictLockIsExclusive(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	a, err := Open(ctx, root, ".tmp-")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, root, ".tmp-")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	release, err := a.District(ctx, "WI", "5508520")
	if err != nil {
		t.Fatal(err)
	}
	other, err := b.District(ctx, "WI", "5509600")
	if err != nil {
		t.Fatalf("another district waited: %v", err)
	}
	other()
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := b.District(short, "WI", "5508520"); err == nil {
		t.Fatal("a second run took a district another run holds")
	}
	got := make(chan error, 1)
	go func() {
		r, err := b.District(ctx, "WI", "5508520")
		if err == nil {
			r()
		}
		got <- err
	}()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-got:
		t.Fatalf("the second run did not wait: %v", err)
	default:
	}
	release()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second run still waits after the first released the district")
	}
}
