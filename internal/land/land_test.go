package land_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/land"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/source"
	"github.com/districtlake/districtlake/internal/summary"
	"github.com/districtlake/districtlake/internal/testenv"
)

// origin is a file server that counts requests and body bytes and answers conditional
// requests (ETag, If-None-Match) as a federal server does.
type origin struct {
	mu       sync.Mutex
	body     []byte
	requests atomic.Int64
	sent     atomic.Int64
}

func (o *origin) set(b []byte) { o.mu.Lock(); o.body = b; o.mu.Unlock() }

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.requests.Add(1)
	o.mu.Lock()
	body := o.body
	o.mu.Unlock()
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	n, _ := w.Write(body)
	o.sent.Add(int64(n))
}

// national is a CRDC-like national file: districts × schools rows.
func national(districts, schools int, tag string) []byte {
	var b strings.Builder
	b.WriteString("LEA_STATE,LEAID,LEA_NAME,SCHID,SCH_NAME,COMBOKEY,SCH_FTECOUNSELORS\n")
	for d := range districts {
		for s := range schools {
			fmt.Fprintf(&b, "WI,%07d,\"District %d, %s\",%05d,School %d,%07d%05d,%d.5\n", 5500000+d, d, tag, s, s, 5500000+d, s, s)
		}
	}
	return []byte(b.String())
}

// landedSource is a district source reading leaid's rows of the revision a landed by p
// from lake l.
func landedSource(l plan.Lake, p *plan.Land, a *summary.Artifact, leaid, format string) plan.Source {
	landed := land.Locate(p.Namespace, p.Name, a.Revision, a.Layout, leaid, format)
	landed.Lake = l
	return plan.Source{Name: "crdc-support", Dataset: "staffing", Format: land.LandedFormat(format), SchoolYear: p.SchoolYear, Landed: &landed}
}

// readLanded reads what district source src reads.
func readLanded(t testing.TB, src plan.Source, env lake.Env) string {
	t.Helper()
	stream, err := source.Open(context.Background(), src, env)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	b, err := io.ReadAll(stream)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func landPlan(url, dir string) *plan.Land {
	return &plan.Land{
		Version: plan.Version, Kind: plan.KindLand, Namespace: "wi", Name: "crdc-2021-22-school-support",
		Source:     plan.Source{Name: "crdc-2021-22-school-support", Format: "crdc", HTTP: &plan.HTTP{URL: url}},
		SchoolYear: "2021-22", Lake: plan.Lake{Type: lake.TypeFile, Path: dir},
	}
}

// TestLandOnceReadOwnRows: the file is landed once, one object per district; a district
// reads only its own object; a second run of an unchanged file costs one request and no
// body; a changed file lands a new revision.
func TestLandOnceReadOwnRows(t *testing.T) {
	ctx := context.Background()
	o := &origin{}
	o.set(national(40, 25, "v1"))
	srv := httptest.NewServer(o)
	defer srv.Close()
	dir := t.TempDir()
	p := landPlan(srv.URL+"/School%20Support.csv", dir)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	store, err := lake.New(ctx, p.Lake, nil)
	if err != nil {
		t.Fatal(err)
	}

	sum, err := land.Run(ctx, p, store, nil, land.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := sum.Artifact
	if a == nil || a.Rows != 1000 || a.Districts != 40 || a.Bytes != int64(len(o.body)) || sum.NotModified {
		t.Fatalf("first landing: %+v, artifact %+v", sum, a)
	}
	if got := o.requests.Load(); got != 1 {
		t.Errorf("first landing made %d requests, want 1", got)
	}
	if m, err := land.ReadManifest(ctx, store, "wi", p.Name); err != nil || m.Revision != a.Revision {
		t.Fatalf("manifest: %+v, %v", m, err)
	}

	// One district reads its own rows: its 25 and nothing of the other 39.
	src := landedSource(p.Lake, p, a, "5500007", "crdc")
	if want := a.Prefix + "/fips=55.csv"; a.Layout != land.LayoutStateFile || src.Landed.Key != want || src.Landed.Index != a.Prefix+"/fips=55.index" {
		t.Fatalf("layout %q, district's object %s and index %s; want %s, its state's object", a.Layout, src.Landed.Key, src.Landed.Index, want)
	}
	stream, err := source.Open(ctx, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(stream)
	stream.Close()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	if len(lines) != 26 || !strings.HasPrefix(lines[0], "LEA_STATE,LEAID,") {
		t.Fatalf("district object has %d lines, header %q", len(lines), lines[0])
	}
	for _, l := range lines[1:] {
		if !strings.Contains(l, ",5500007,") {
			t.Fatalf("a row of another district: %s", l)
		}
	}
	if !strings.Contains(lines[1], `"District 7, v1"`) {
		t.Errorf("a quoted value lost its quotes: %s", lines[1])
	}
	if stream.Fetched() > int64(len(o.body))/30 {
		t.Errorf("the district read %d bytes of a %d-byte national file", stream.Fetched(), len(o.body))
	}
	t.Logf("national file %d bytes; one district read %d bytes", len(o.body), stream.Fetched())

	// Unchanged: one request, no body, the same revision.
	sentBefore := o.sent.Load()
	p.Previous = &plan.Previous{ETag: a.ETag, LastModified: a.LastModified, Revision: a.Revision}
	sum2, err := land.Run(ctx, p, store, nil, land.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !sum2.NotModified || sum2.Artifact.Revision != a.Revision {
		t.Fatalf("second landing: %+v", sum2)
	}
	if got := o.requests.Load(); got != 2 {
		t.Errorf("second landing made %d requests in all, want 2", got)
	}
	if o.sent.Load() != sentBefore {
		t.Errorf("second landing downloaded %d bytes, want none", o.sent.Load()-sentBefore)
	}

	// Changed: a new revision, whose objects hold the new rows; the old revision stays whole.
	o.set(national(40, 25, "v2"))
	sum3, err := land.Run(ctx, p, store, nil, land.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum3.NotModified || sum3.Artifact.Revision == a.Revision {
		t.Fatalf("changed file: %+v", sum3)
	}
	if m, _ := land.ReadManifest(ctx, store, "wi", p.Name); m.Revision != sum3.Artifact.Revision {
		t.Errorf("manifest names %s, want the new revision %s", m.Revision, sum3.Artifact.Revision)
	}
	if b := readLanded(t, src, nil); strings.Count(b, ",5500007,") != 25 || !strings.Contains(b, "v1") {
		t.Errorf("the old revision's rows of a district are gone: %q", b)
	}
}

// TestLandOneObjectPerState: an unsorted file of three states lands as one object per
// state (FIPS code, the LEAID's first two digits) and its index, nothing else; each state
// object is a csv file DuckDB reads whole, holding that state's rows only, each district's
// rows together; every district reads exactly its own rows in the file's order.
func TestLandOneObjectPerState(t *testing.T) {
	ctx := context.Background()
	var b strings.Builder
	b.WriteString("LEAID,SCHID,N\n")
	ids := []string{"5508520", "0100005", "1709930", "5500001", "0100005", "5508520", "1709930", "5508520"}
	want := map[string]string{}
	for i, id := range ids {
		row := fmt.Sprintf("%s,%05d,\"%d, quoted\"\n", id, i, i)
		b.WriteString(row)
		want[id] += row
	}
	o := &origin{}
	o.set([]byte(b.String()))
	srv := httptest.NewServer(o)
	defer srv.Close()
	dir := t.TempDir()
	p := landPlan(srv.URL, dir)
	p.Source.Format = "csv"
	store, err := lake.New(ctx, p.Lake, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := land.Run(ctx, p, store, nil, land.Options{Publishers: 2})
	if err != nil {
		t.Fatal(err)
	}
	a := sum.Artifact
	objs, err := store.List(ctx, a.Prefix+"/")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		keys = append(keys, strings.TrimPrefix(o.Key, a.Prefix+"/"))
	}
	if got := strings.Join(keys, " "); got != "fips=01.csv fips=01.index fips=17.csv fips=17.index fips=55.csv fips=55.index" {
		t.Fatalf("the revision holds %s", got)
	}
	for _, fips := range []string{"01", "17", "55"} {
		path := filepath.Join(dir, filepath.FromSlash(a.Prefix), "fips="+fips+".csv")
		got := testenv.DuckDB(t, fmt.Sprintf(`SELECT count(*) AS n, count(*) FILTER (WHERE NOT starts_with(LEAID, '%s')) AS others
			FROM read_csv('%s', all_varchar = true)`, fips, path))
		n := 0
		for _, id := range ids {
			if id[:2] == fips {
				n++
			}
		}
		if got[0]["n"] != int64(n) || got[0]["others"] != int64(0) {
			t.Errorf("DuckDB reads %v from %s; want its state's %d rows only", got, path, n)
		}
	}
	for id, rows := range want {
		if got := readLanded(t, landedSource(p.Lake, p, a, id, "csv"), nil); got != "LEAID,SCHID,N\n"+rows {
			t.Errorf("district %s read %q; want %q", id, got, "LEAID,SCHID,N\n"+rows)
		}
	}
}

// TestLocateEachLayout: a district's rows are found in each layout a revision may have.
func TestLocateEachLayout(t *testing.T) {
	pre := "shared/namespace=wi/name=support/revision=r1"
	for _, tc := range []struct {
		layout, format string
		want           plan.Landed
	}{
		{land.LayoutStateFile, "crdc", plan.Landed{Key: pre + "/fips=55.csv", Index: pre + "/fips=55.index", District: "5508520"}},
		{land.LayoutStateFile, "ndjson", plan.Landed{Key: pre + "/fips=55.ndjson", Index: pre + "/fips=55.index", District: "5508520"}},
		{land.LayoutDistrictFile, "parquet", plan.Landed{Key: pre + "/district=5508520.csv"}},
		{"", "csv", plan.Landed{Key: pre + "/district=5508520/data.csv"}},
	} {
		tc.want.Revision, tc.want.SharedSource = "r1", "support"
		if got := land.Locate("wi", "support", "r1", tc.layout, "5508520", tc.format); got != tc.want {
			t.Errorf("layout %q, format %s: %+v; want %+v", tc.layout, tc.format, got, tc.want)
		}
	}
}

// TestLandRejectsBadLEAID: a row whose LEAID is not an NCES LEA ID fails the run naming
// the row and column, and lands nothing.
func TestLandRejectsBadLEAID(t *testing.T) {
	ctx := context.Background()
	o := &origin{}
	o.set([]byte("LEAID,SCH_NAME\n5500001,A\nN/A,B\n"))
	srv := httptest.NewServer(o)
	defer srv.Close()
	dir := t.TempDir()
	p := landPlan(srv.URL, dir)
	store, _ := lake.New(ctx, p.Lake, nil)
	_, err := land.Run(ctx, p, store, nil, land.Options{})
	if err == nil || !strings.Contains(err.Error(), `row 3 column LEAID: "N/A" is not a 7-digit NCES LEA ID`) {
		t.Fatalf("error = %v", err)
	}
	if objs, _ := store.List(ctx, ""); len(objs) != 0 {
		t.Errorf("a failed landing published %d objects", len(objs))
	}
}

// TestLandNDJSON: an ndjson file with districtColumn, LEAIDs written as numbers without
// their leading zero.
func TestLandNDJSON(t *testing.T) {
	ctx := context.Background()
	o := &origin{}
	o.set([]byte("{\"lea\": 100005, \"n\": 1}\n{\"lea\": \"0100005\", \"n\": 2}\n{\"lea\": 5508520, \"n\": 3}\n"))
	srv := httptest.NewServer(o)
	defer srv.Close()
	p := landPlan(srv.URL, t.TempDir())
	p.Source.Format, p.DistrictColumn = "ndjson", "lea"
	store, _ := lake.New(ctx, p.Lake, nil)
	sum, err := land.Run(ctx, p, store, nil, land.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Artifact.Districts != 2 || sum.Artifact.Rows != 3 {
		t.Fatalf("artifact %+v", sum.Artifact)
	}
	if b := readLanded(t, landedSource(p.Lake, p, sum.Artifact, "0100005", "ndjson"), nil); b != "{\"lea\": 100005, \"n\": 1}\n{\"lea\": \"0100005\", \"n\": 2}\n" {
		t.Errorf("district 0100005 read %q", b)
	}
	if b := readLanded(t, landedSource(p.Lake, p, sum.Artifact, "5508520", "ndjson"), nil); b != "{\"lea\": 5508520, \"n\": 3}\n" {
		t.Errorf("district 5508520 read %q", b)
	}
}

// TestLandParquetBadInput: a shared Parquet file without the district column, with a
// value that is not an LEAID, or cut short is refused with the source, row and column,
// and nothing is published.
func TestLandParquetBadInput(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	parquetFile := func(name, sql string) []byte {
		path := filepath.Join(dir, name+".parquet")
		testenv.DuckDB(t, "COPY ("+sql+") TO '"+path+"' (FORMAT parquet)")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good := parquetFile("good", "SELECT 5500001::BIGINT AS LEAID, 'A' AS agency")
	for _, tc := range []struct {
		name string
		body []byte
		want string
	}{
		{"no district column", parquetFile("nocol", "SELECT 5500001::BIGINT AS lea, 'A' AS agency"),
			"source crdc-2021-22-school-support: no column LEAID (the LEAID) among the file's 2 columns"},
		{"not an LEAID", parquetFile("bad", "SELECT * FROM (VALUES ('5500001', 'A'), ('N/A', 'B')) AS t(LEAID, agency)"),
			`source crdc-2021-22-school-support: row 2 column LEAID: "N/A" is not a 7-digit NCES LEA ID`},
		{"cut short", good[:len(good)/2], "is not a Parquet file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &origin{}
			o.set(tc.body)
			srv := httptest.NewServer(o)
			defer srv.Close()
			p := landPlan(srv.URL, t.TempDir())
			p.Source.Format = "parquet"
			store, _ := lake.New(ctx, p.Lake, nil)
			_, err := land.Run(ctx, p, store, nil, land.Options{TempDir: t.TempDir()})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
			if objs, _ := store.List(ctx, ""); len(objs) != 0 {
				t.Errorf("a failed landing published %d objects", len(objs))
			}
		})
	}
}
