package summary

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEncodeFitsTerminationMessage(t *testing.T) {
	s := Summary{RunID: "r1", Outcome: Failed, Message: strings.Repeat("x", 10000)}
	for i := 0; i < 100; i++ {
		s.Sources = append(s.Sources, Source{Name: "source-with-a-long-name", Dataset: "staffing", SHA256: strings.Repeat("a", 64), ObjectKey: "staffing/state=WI/school_year=2020-21/district=5508520/data.parquet"})
	}
	b, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > MaxBytes {
		t.Fatalf("encoded summary is %d bytes, over the %d-byte limit", len(b), MaxBytes)
	}
	got, err := Decode(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if got.RunID != "r1" || got.Outcome != Failed || !strings.HasSuffix(got.Message, "[cut]") {
		t.Fatalf("decoded %+v: want run id, outcome and a cut message kept", got)
	}
}

func TestEncodeKeepsSmallSummaryWhole(t *testing.T) {
	s := Summary{RunID: "r2", Outcome: Succeeded, Message: "ok", Objects: []Object{{Dataset: "staffing", Key: "k", Rows: 3}}}
	b, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := Decode(string(b))
	if got.Message != "ok" || len(got.Objects) != 1 || got.Objects[0].Rows != 3 {
		t.Fatalf("decoded %+v, want it whole", got)
	}
}

func TestWriteCreatesOtherPaths(t *testing.T) {
	p := filepath.Join(t.TempDir(), "summary.json")
	if err := Write(p, Summary{RunID: "r3", Outcome: Succeeded}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil || !strings.Contains(string(b), `"runID":"r3"`) {
		t.Fatalf("read %q, %v", b, err)
	}
}

func TestDecodeRejectsPlainText(t *testing.T) {
	if _, err := Decode("panic: boom"); err == nil {
		t.Fatal("a plain-text termination message decoded as a summary")
	}
}
