package guard

import (
	"strings"
	"testing"
)

func TestJobImages(t *testing.T) {
	l, err := ParseJobImages(" registry.example/districtlake:1.4 , registry.example/tools/*,,")
	if err != nil {
		t.Fatal(err)
	}
	for image, want := range map[string]bool{
		"registry.example/districtlake:1.4":    true,
		"registry.example/districtlake:1.5":    false,
		"registry.example/tools/anything:2":    true,
		"registry.example/toolsx:1":            false,
		"evil.example/registry.example/tools/": false,
	} {
		if got := l.Allows(image); got != want {
			t.Errorf("Allows(%q) = %v, want %v", image, got, want)
		}
	}
	if err := JobImage("", nil); err != nil {
		t.Errorf("the manager's image (empty spec.job.image) was refused: %v", err)
	}
	if err := JobImage("evil.example/x:1", nil); err == nil || !strings.Contains(err.Error(), "allows no spec.job.image") {
		t.Errorf("empty list: got %v", err)
	}
	if err := JobImage("evil.example/x:1", l); err == nil || !strings.Contains(err.Error(), "registry.example/tools/*") {
		t.Errorf("not listed: got %v", err)
	}
	if all, _ := ParseJobImages("*"); !all.Allows("anything:1") {
		t.Error(`"*" did not allow every image`)
	}
	if _, err := ParseJobImages("registry.example/*/x"); err == nil {
		t.Error("a '*' inside an entry was accepted")
	}
}
