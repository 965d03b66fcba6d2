package local

import (
	"context"
	"testing"
)

func BenchmarkTmpLoadFolder(b *testing.B) {
	for b.Loop() {
		if _, err := Load(context.Background(), "/dev/shm/nat/folder"); err != nil {
			b.Fatal(err)
		}
	}
}
