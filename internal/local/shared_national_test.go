package local

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/land"
	"github.com/districtlake/districtlake/internal/plan"
)

// fileServer serves files by path as a federal server does: ETag and Last-Modified,
// conditional requests (304) and range requests (206), through http.ServeContent. It
// counts requests and body bytes per path, and can be taken down.
type fileServer struct {
	mu       sync.Mutex
	files    map[string][]byte
	requests map[string]int
	sent     map[string]int64
	ranged   map[string]int
}

func newFileServer() *fileServer {
	return &fileServer{files: map[string][]byte{}, requests: map[string]int{}, sent: map[string]int64{}, ranged: map[string]int{}}
}

func (s *fileServer) set(path string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = body
}

// counts returns the requests and body bytes per path since the last call.
func (s *fileServer) counts() (requests map[string]int, sent map[string]int64, ranged map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	requests, sent, ranged = s.requests, s.sent, s.ranged
	s.requests, s.sent, s.ranged = map[string]int{}, map[string]int64{}, map[string]int{}
	return requests, sent, ranged
}

func (s *fileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	body, ok := s.files[r.URL.Path]
	s.requests[r.URL.Path]++
	if r.Header.Get("Range") != "" {
		s.ranged[r.URL.Path]++
	}
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256(body)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
	cw := &countingResponse{ResponseWriter: w}
	http.ServeContent(cw, r, r.URL.Path, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), bytes.NewReader(body))
	s.mu.Lock()
	s.sent[r.URL.Path] += cw.n
	s.mu.Unlock()
}

type countingResponse struct {
	http.ResponseWriter
	n int64
}

func (c *countingResponse) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

// The national files' CRDC headers (2020-21 public-use layout).
const (
	crdcKeys       = "LEA_STATE,LEA_STATE_NAME,LEAID,LEA_NAME,SCHID,SCH_NAME,COMBOKEY,JJ"
	supportHeader  = crdcKeys + ",SCH_FTESECURITY_LEO,SCH_FTESECURITY_GUA,SCH_FTETEACH_TOT,SCH_FTETEACH_CERT,SCH_FTETEACH_NOTCERT,SCH_FTECOUNSELORS,SCH_FTESERVICES_NUR,SCH_FTESERVICES_PSY,SCH_FTESERVICES_SOC"
	enrollmentCols = "SCH_ENR_HI_M,SCH_ENR_HI_F,SCH_ENR_AM_M,SCH_ENR_AM_F,SCH_ENR_AS_M,SCH_ENR_AS_F,SCH_ENR_HP_M,SCH_ENR_HP_F,SCH_ENR_BL_M,SCH_ENR_BL_F,SCH_ENR_WH_M,SCH_ENR_WH_F,SCH_ENR_TR_M,SCH_ENR_TR_F,TOT_ENR_M,TOT_ENR_F,SCH_ENR_LEP_M,SCH_ENR_LEP_F,SCH_ENR_504_M,SCH_ENR_504_F,SCH_ENR_IDEA_M,SCH_ENR_IDEA_F"
	nationalLEAs   = 400 // districts in the national files; the folder has 30 of them
	schoolsPerLEA  = 10
)

func leaid(d int) string { return fmt.Sprintf("%07d", 5500000+d) }

func schoolKeys(d, s int) string {
	return fmt.Sprintf("WI,Wisconsin,%s,District %d,%05d,School %d-%d,%s%05d,No", leaid(d), d, s, d, s, leaid(d), s)
}

// supportCSV is a national School Support file; counselors differ by seed.
func supportCSV(seed uint64) []byte {
	rnd := rand.New(rand.NewPCG(seed, 7))
	var b strings.Builder
	b.WriteString(supportHeader + "\n")
	for d := range nationalLEAs {
		for s := range schoolsPerLEA {
			fmt.Fprintf(&b, "%s,%d,%d,%.2f,%.2f,%d,%.2f,%.2f,%.2f,%.2f\n", schoolKeys(d, s),
				rnd.IntN(3), rnd.IntN(4), 20+rnd.Float64()*90, 18+rnd.Float64()*80, rnd.IntN(3),
				rnd.Float64()*6, rnd.Float64(), rnd.Float64()*2, rnd.Float64()*3)
		}
	}
	return []byte(b.String())
}

// enrollmentCSV is a national Enrollment file.
func enrollmentCSV() []byte {
	var b strings.Builder
	b.WriteString(crdcKeys + "," + enrollmentCols + "\n")
	n := len(strings.Split(enrollmentCols, ","))
	for d := range nationalLEAs {
		for s := range schoolsPerLEA {
			b.WriteString(schoolKeys(d, s))
			for i := range n {
				switch {
				case strings.HasPrefix(strings.Split(enrollmentCols, ",")[i], "TOT_ENR"):
					fmt.Fprintf(&b, ",%d", 300+d%50)
				default:
					fmt.Fprintf(&b, ",%d", (d+s+i)%40)
				}
			}
			b.WriteString("\n")
		}
	}
	return []byte(b.String())
}

// crdcZip is the national archive: a large other member first, then the School Support
// member (deflated), as the federal ZIP holds many files.
func crdcZip(t *testing.T, support []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	other, err := zw.CreateHeader(&zip.FileHeader{Name: "SCH/Harassment or Bullying.csv", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	filler := make([]byte, 2<<20)
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < len(filler); i += 8 {
		binary.LittleEndian.PutUint64(filler[i:], rnd.Uint64())
	}
	if _, err := other.Write(filler); err != nil {
		t.Fatal(err)
	}
	m, err := zw.CreateHeader(&zip.FileHeader{Name: "SCH/School Support.csv", Method: zip.Deflate})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Write(support); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// memberBound is what reading one member in ranges may cost at most: its local header and
// compressed bytes (with a data descriptor), and the central directory with its end record.
func memberBound(t *testing.T, archive []byte, name string) (bound, compressed int64) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	var member *zip.File
	var dataEnd int64
	for _, f := range zr.File {
		off, err := f.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		dataEnd = max(dataEnd, off+int64(f.CompressedSize64)+16)
		if f.Name == name {
			member = f
		}
	}
	if member == nil {
		t.Fatalf("no member %q", name)
	}
	directory := int64(len(archive)) - dataEnd
	header := int64(30 + len(member.Name) + len(member.Extra))
	return header + int64(member.CompressedSize64) + 16 + directory, int64(member.CompressedSize64)
}

// nationalFolder writes 30 Wisconsin DistrictSources that read three national files
// through three SharedSources: School Support out of the national ZIP, Enrollment and
// police contracts.
func nationalFolder(t *testing.T, url string) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: districtlake.io/v1alpha1
kind: Lake
metadata: {name: statewide, namespace: wi}
spec: {endpoint: "minio:9000", bucket: districtlake, credentialsSecretRef: {name: lake-credentials}}
---
apiVersion: districtlake.io/v1alpha1
kind: SharedSource
metadata: {name: crdc-2020-21-school-support, namespace: wi}
spec:
  http: {url: "%[1]s/crdc/2020-21-crdc-data.zip", member: "SCH/School Support.csv"}
  format: crdc
  schoolYear: 2020-21
  lakeRef: {name: statewide}
  schedule: "@weekly"
  rerunDistricts: {enabled: true, maxConcurrentJobs: 5}
---
apiVersion: districtlake.io/v1alpha1
kind: SharedSource
metadata: {name: crdc-2020-21-enrollment, namespace: wi}
spec:
  http: {url: "%[1]s/crdc/Enrollment.csv"}
  format: crdc
  schoolYear: 2020-21
  lakeRef: {name: statewide}
  schedule: "@weekly"
---
apiVersion: districtlake.io/v1alpha1
kind: SharedSource
metadata: {name: national-contracts, namespace: wi}
spec:
  http: {url: "%[1]s/contracts.csv"}
  format: csv
  districtColumn: LEAID
  schoolYear: 2020-21
  lakeRef: {name: statewide}
  schedule: "@weekly"
`, url)
	for d := range 30 {
		fmt.Fprintf(&b, `---
apiVersion: districtlake.io/v1alpha1
kind: DistrictSource
metadata: {name: wi-%[1]s, namespace: wi}
spec:
  district: {ncesId: "%[1]s", name: "District %[2]d", state: WI}
  lakeRef: {name: statewide}
  schedule: "@weekly"
  sources:
  - {name: crdc-support, dataset: staffing, schoolYear: "2020-21", sharedSourceRef: {name: crdc-2020-21-school-support}}
  - {name: crdc-enrollment, dataset: staffing, schoolYear: "2020-21", sharedSourceRef: {name: crdc-2020-21-enrollment}}
  - {name: contracts, dataset: contracts, sharedSourceRef: {name: national-contracts}}
`, leaid(d), d)
	}
	if err := os.WriteFile(filepath.Join(dir, "wi.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// lakeObjects hashes every object of a file lake but the run manifests.
func lakeObjects(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(rel, "_runs/") || strings.HasPrefix(filepath.Base(rel), ".") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRunThreeNationalFiles: 30 districts over three national files (one a member of a
// ZIP read in ranges) make the file server send each file once per run, the ZIP member's
// bytes and the archive's directory only; a second run downloads nothing; a changed file
// lands a new revision that the districts read; with the server down the shared sources
// fail with the reason, the run says so, and every object in the lake stays byte for byte.
func TestRunThreeNationalFiles(t *testing.T) {
	ctx := context.Background()
	fsrv := newFileServer()
	support := supportCSV(1)
	archive := crdcZip(t, support)
	bound, compressed := memberBound(t, archive, "SCH/School Support.csv")
	if compressed < 66*1024 || int64(len(archive)) < 4*bound {
		t.Fatalf("the fixture does not test ranged reads: member %d bytes compressed, archive %d, bound %d", compressed, len(archive), bound)
	}
	fsrv.set("/crdc/2020-21-crdc-data.zip", archive)
	fsrv.set("/crdc/Enrollment.csv", enrollmentCSV())
	fsrv.set("/contracts.csv", nationalContracts(90000))
	srv := httptest.NewServer(fsrv)
	defer srv.Close()
	dir := nationalFolder(t, srv.URL)
	lakeDir := t.TempDir()
	store, err := lake.New(ctx, plan.Lake{Type: plan.LakeFile, Path: lakeDir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	run := func() (*RunResult, string, error) {
		t.Helper()
		f, err := Load(ctx, dir)
		if err != nil || f.Err() != nil {
			t.Fatalf("Load: %v %v", err, f.Err())
		}
		var out bytes.Buffer
		res, err := Run(ctx, f, RunOptions{Lake: lakeDir, Concurrency: 4, Out: &out})
		return res, out.String(), err
	}
	mustRun := func() (*RunResult, string) {
		t.Helper()
		res, out, err := run()
		if err != nil || !strings.Contains(out, "Ingested 30 of 30 districts") {
			t.Fatalf("Run: %v\n%s", err, out)
		}
		return res, out
	}
	contractsSHA := func(res *RunResult, name string) string {
		t.Helper()
		for _, d := range res.Districts {
			if d.Name != name {
				continue
			}
			for _, s := range d.Summary.Sources {
				if s.Name == "contracts" {
					return s.SHA256
				}
			}
		}
		t.Fatalf("no contracts source read by %s", name)
		return ""
	}

	// First run: each file once; the ZIP member in ranges within its bound.
	res, out := mustRun()
	requests, sent, ranged := fsrv.counts()
	for _, path := range []string{"/crdc/Enrollment.csv", "/contracts.csv"} {
		if requests[path] != 1 || sent[path] != int64(len(fsrv.files[path])) {
			t.Errorf("%s: %d requests, %d bytes sent; want 1 request of the file's %d bytes", path, requests[path], sent[path], len(fsrv.files[path]))
		}
	}
	zipPath := "/crdc/2020-21-crdc-data.zip"
	if ranged[zipPath] != requests[zipPath] || sent[zipPath] > bound {
		t.Errorf("the ZIP: %d requests (%d ranged), %d bytes sent; want only ranged requests and at most the member's %d compressed bytes plus the directory (%d in all) of a %d-byte archive",
			requests[zipPath], ranged[zipPath], sent[zipPath], compressed, bound, len(archive))
	}
	t.Logf("ZIP member read in %d ranged requests, %d bytes of a %d-byte archive (bound %d)", requests[zipPath], sent[zipPath], len(archive), bound)
	for _, name := range []string{"crdc-2020-21-school-support", "crdc-2020-21-enrollment", "national-contracts"} {
		if !strings.Contains(out, "Shared source wi/"+name+": landed revision ") {
			t.Errorf("output lacks the landing of %s:\n%s", name, out)
		}
	}
	if !strings.Contains(out, "4000 rows of 400 districts") {
		t.Errorf("output lacks the national files' size:\n%s", out)
	}
	firstSHA := contractsSHA(res, "wi-5500007")
	first, err := land.ReadManifest(ctx, store, "wi", "national-contracts")
	if err != nil {
		t.Fatal(err)
	}

	// Second run of unchanged files: one conditional request each, nothing downloaded.
	_, out = mustRun()
	requests, sent, _ = fsrv.counts()
	for path := range fsrv.files {
		if requests[path] != 1 || sent[path] != 0 {
			t.Errorf("second run, %s: %d requests, %d bytes sent; want 1 request and no bytes", path, requests[path], sent[path])
		}
	}
	if strings.Count(out, "unchanged since revision") != 3 {
		t.Errorf("output lacks three unchanged files:\n%s", out)
	}

	// A corrected release of one file: a new revision, which the districts read.
	fsrv.set("/contracts.csv", nationalContracts(1234567))
	res, _ = mustRun()
	requests, _, _ = fsrv.counts()
	if requests["/contracts.csv"] != 1 {
		t.Errorf("third run fetched the changed file in %d requests, want 1", requests["/contracts.csv"])
	}
	second, err := land.ReadManifest(ctx, store, "wi", "national-contracts")
	if err != nil {
		t.Fatal(err)
	}
	if second.Revision == first.Revision {
		t.Errorf("the changed file did not land a new revision")
	}
	if contractsSHA(res, "wi-5500007") == firstSHA {
		t.Errorf("the district read the old revision's rows after the new one landed")
	}

	// The server down: every shared source fails with the reason, no district runs, and
	// the lake is byte for byte what it was.
	before := lakeObjects(t, lakeDir)
	srv.Close()
	res, out, err = run()
	if err == nil {
		t.Fatalf("a run with the file server down succeeded:\n%s", out)
	}
	for _, s := range res.Shared {
		if s.Err == nil || !strings.Contains(s.Err.Error(), "connection refused") {
			t.Errorf("shared source %s: %v, want a refused connection", s.Name, s.Err)
		}
	}
	if !strings.Contains(out, "Shared source wi/crdc-2020-21-school-support: FAILED: ") || !strings.Contains(out, "Ingested 0 of 30 districts") {
		t.Errorf("output does not report the failed landing:\n%s", out)
	}
	if !strings.Contains(out, "failed to land") || !strings.Contains(out, "its data in the lake is unchanged") {
		t.Errorf("output does not say why the districts did not run:\n%s", out)
	}
	after := lakeObjects(t, lakeDir)
	if len(after) != len(before) {
		t.Errorf("the lake had %d objects and has %d", len(before), len(after))
	}
	for key, sum := range before {
		if after[key] != sum {
			t.Errorf("%s changed while the file server was down", key)
		}
	}
	if m, err := land.ReadManifest(ctx, store, "wi", "national-contracts"); err != nil || m.Revision != second.Revision {
		t.Errorf("the current revision is %v (%v), want %s", m, err, second.Revision)
	}
}
