package ingest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/summary"
)

// logLines collects structured log lines as JSON objects.
type logLines struct {
	mu    sync.Mutex
	lines []map[string]any
	raw   strings.Builder
}

func (l *logLines) sink(args string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.raw.WriteString(args + "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(args), &m); err == nil {
		l.lines = append(l.lines, m)
	}
}

func (l *logLines) find(msg string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, m := range l.lines {
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// TestIngestLogsProgressWithoutSecrets streams a large file slowly from a server that
// wants a bearer token: the run logs "Read rows" progress lines with rows, bytes and
// MB/s, and neither the token nor the URL's query token appears in a log line, the summary
// or the manifest.
func TestIngestLogsProgressWithoutSecrets(t *testing.T) {
	const token = "Bearer s3cr3t-t0ken-9a7f"
	big := newBigSupport(t, 20000)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != token {
			http.Error(rw, "no", http.StatusUnauthorized)
			return
		}
		for i := 0; i < len(big); i += 256 << 10 {
			_, _ = rw.Write(big[i:min(i+256<<10, len(big))])
			rw.(http.Flusher).Flush()
			time.Sleep(30 * time.Millisecond)
		}
	}))
	defer srv.Close()
	url := srv.URL + "/School%20Support.csv?sig=hunter2-pw&year=2021"
	l, store := fileLakeAt(t, plan.Lake{Type: plan.LakeFile, Path: t.TempDir()})
	src := plan.Source{Name: "crdc-support", Dataset: "staffing", Format: "crdc", SchoolYear: "2020-21",
		HTTP: &plan.HTTP{URL: url, Headers: []plan.Header{{Name: "Authorization", ValueEnv: "DISTRICTLAKE_SRC_CRDC_SUPPORT_HEADER_0"}}}}
	env := lake.MapEnv(map[string]string{"DISTRICTLAKE_SRC_CRDC_SUPPORT_HEADER_0": token})

	logs := &logLines{}
	opts := testOptions("20261126T130501Z-10a9e5")
	opts.Log = funcr.NewJSON(logs.sink, funcr.Options{})
	opts.ProgressEvery = 50 * time.Millisecond
	sum, err := Run(context.Background(), newPlan(l, wiLEA, wiName, "WI", src), store, env, opts)
	if err != nil {
		t.Fatal(err)
	}
	progress := logs.find("Read rows")
	if len(progress) < 2 {
		t.Fatalf("%d progress lines, want several:\n%s", len(progress), logs.raw.String())
	}
	last := progress[len(progress)-1]
	for _, k := range []string{"source", "rows", "bytes", "mbPerSecond", "runID"} {
		if _, ok := last[k]; !ok {
			t.Errorf("progress line %v has no %s", last, k)
		}
	}
	if rows, _ := last["rows"].(float64); rows <= 0 || rows > 20000 {
		t.Errorf("progress line %v: rows should be between 1 and 20000", last)
	}
	if len(logs.find("Read source")) != 1 || len(logs.find("Published object")) != 1 || len(logs.find("Wrote run manifest")) != 1 {
		t.Errorf("missing summary log lines:\n%s", logs.raw.String())
	}
	obj, err := store.Open(context.Background(), sum.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	manifest, _ := io.ReadAll(obj)
	obj.Close()
	b, _ := summary.Encode(sum)
	for what, text := range map[string]string{"logs": logs.raw.String(), "manifest": string(manifest), "summary": string(b)} {
		for _, secret := range []string{"s3cr3t-t0ken-9a7f", "hunter2-pw"} {
			if strings.Contains(text, secret) {
				t.Errorf("the %s hold the secret %q", what, secret)
			}
		}
	}
	if !strings.Contains(string(manifest), srv.URL+"/School%20Support.csv?sig=xxxxx\\u0026year=xxxxx") {
		t.Errorf("the manifest does not name the source's location:\n%s", manifest)
	}

	// A failed fetch does not show the token either.
	env = lake.MapEnv(map[string]string{"DISTRICTLAKE_SRC_CRDC_SUPPORT_HEADER_0": "Bearer wrong-" + token})
	logs2 := &logLines{}
	opts.Log = funcr.NewJSON(logs2.sink, funcr.Options{})
	_, err = Run(context.Background(), newPlan(l, wiLEA, wiName, "WI", src), store, env, opts)
	if err == nil || !strings.Contains(err.Error(), "401 Unauthorized") || strings.Contains(err.Error(), "s3cr3t") ||
		strings.Contains(err.Error(), "hunter2") || strings.Contains(logs2.raw.String(), "s3cr3t") {
		t.Fatalf("error %v / logs %s", err, logs2.raw.String())
	}
}
