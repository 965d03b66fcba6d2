package source

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/districtlake/districtlake/internal/plan"
)

// fileServer serves one file at every path and counts the requests it answers and the
// body bytes it sends. It answers range requests (http.ServeContent, with If-Range) unless
// told not to; without an ETag, If-Range compares Last-Modified.
type fileServer struct {
	*httptest.Server
	mu       sync.Mutex
	data     []byte
	modified time.Time
	noRanges bool
	noETag   bool
	// next replaces data when request number changeAt arrives.
	next     []byte
	changeAt int
	requests int
	sent     int64
	active   sync.WaitGroup
}

func newFileServer(t *testing.T, data []byte) *fileServer {
	fs := &fileServer{data: data, modified: time.Date(2023, 10, 1, 0, 0, 0, 0, time.UTC)}
	fs.Server = httptest.NewServer(fs)
	t.Cleanup(fs.Close)
	return fs
}

func (fs *fileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fs.active.Add(1)
	defer fs.active.Done()
	fs.mu.Lock()
	fs.requests++
	if fs.requests == fs.changeAt {
		fs.data, fs.modified = fs.next, fs.modified.Add(24*time.Hour)
	}
	data, modified, noRanges, noETag := fs.data, fs.modified, fs.noRanges, fs.noETag
	fs.mu.Unlock()
	cw := &countingWriter{ResponseWriter: w, fs: fs}
	if noRanges {
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		_, _ = cw.Write(data)
		return
	}
	if !noETag {
		w.Header().Set("ETag", fmt.Sprintf(`"%x"`, sha256.Sum256(data)))
	}
	http.ServeContent(cw, r, "", modified, bytes.NewReader(data))
}

// counts waits for the requests in flight to end and returns how many requests were
// answered and how many body bytes sent.
func (fs *fileServer) counts() (requests int, sent int64) {
	fs.active.Wait()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.requests, fs.sent
}

type countingWriter struct {
	http.ResponseWriter
	fs *fileServer
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.fs.mu.Lock()
	w.fs.sent += int64(n)
	w.fs.mu.Unlock()
	return n, err
}

// member is one file of a test archive.
type member struct {
	name   string
	data   []byte
	method uint16
}

func buildZip(t testing.TB, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: m.method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// compressedSize is a member's size in the archive.
func compressedSize(t testing.TB, archive []byte, name string) int64 {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == name {
			return int64(f.CompressedSize64)
		}
	}
	t.Fatalf("no %s in the archive", name)
	return 0
}

// schoolCSV is a CRDC-like CSV of n schools, compressible but not trivially.
func schoolCSV(n int) []byte {
	var b strings.Builder
	b.WriteString("LEA_STATE,LEAID,SCHID,COMBOKEY,SCH_FTECOUNSELORS\r\n")
	r := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		fmt.Fprintf(&b, "WI,55%05d,%05d,55%05d%05d,%.2f\r\n", i%9000, i, i%9000, i, r.Float64()*4)
	}
	return []byte(b.String())
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// crdcArchive is a 16 MB archive with two small school files around a large one.
func crdcArchive(t testing.TB) (archive, support, enrollment []byte) {
	support, enrollment = schoolCSV(5000), schoolCSV(3000)
	archive = buildZip(t,
		member{"SCH/School Support.csv", support, zip.Deflate},
		member{"SCH/Harassment and Bullying.csv", randomBytes(16 << 20), zip.Store},
		member{"SCH/Enrollment.csv", enrollment, zip.Store},
		member{"LEA/LEA Characteristics.csv", schoolCSV(100), zip.Deflate},
	)
	return archive, support, enrollment
}

// memberSource reads a member of the archive at url (the file itself when name is empty).
func memberSource(url, name string) plan.Source {
	s := httpSource("crdc-support", url)
	s.HTTP.Member = name
	return s
}

func readMember(t *testing.T, src plan.Source, opts Options) (*Stream, []byte) {
	t.Helper()
	s, err := OpenWith(context.Background(), src, noEnv, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := io.ReadAll(s)
	if err != nil {
		t.Fatal(err)
	}
	return s, b
}

func TestZipMemberReadInRanges(t *testing.T) {
	archive, support, enrollment := crdcArchive(t)
	srv := newFileServer(t, archive)
	for _, tc := range []struct {
		name string
		want []byte
	}{
		{"SCH/School Support.csv", support}, // deflated, before the large member
		{"SCH/Enrollment.csv", enrollment},  // stored, after it
	} {
		t.Run(tc.name, func(t *testing.T) {
			req0, sent0 := srv.counts()
			src := memberSource(srv.URL+"/2021-22-crdc-data.zip", tc.name)
			src.SHA256 = sum(string(tc.want))
			s, got := readMember(t, src, Options{TempDir: t.TempDir()})
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("read %d bytes that are not the member's %d", len(got), len(tc.want))
			}
			req1, sent1 := srv.counts()
			requests, sent := req1-req0, sent1-sent0
			packed := compressedSize(t, archive, tc.name)
			t.Logf("%s: %d requests, %d bytes of a %d-byte archive for a member of %d bytes (%d in the archive)",
				tc.name, requests, sent, len(archive), len(tc.want), packed)
			// The tail (directory), the local header, the data: nothing of the large member.
			if limit := packed + tailBytes + minBlock + 16; sent > limit {
				t.Fatalf("the server sent %d bytes, more than the member's %d plus the tail and a header (%d)", sent, packed, limit)
			}
			if sent*20 > int64(len(archive)) {
				t.Fatalf("the server sent %d bytes, over 5%% of the archive's %d", sent, len(archive))
			}
			if requests > 3 {
				t.Fatalf("%d requests, want at most 3", requests)
			}
			if s.Fetched() != sent || s.Bytes() != int64(len(tc.want)) || s.Size() != int64(len(tc.want)) {
				t.Fatalf("Fetched %d (server sent %d), Bytes %d, Size %d", s.Fetched(), sent, s.Bytes(), s.Size())
			}
			if s.Member() != tc.name || s.Spooled() || s.ETag() == "" || s.Location() != srv.URL+"/2021-22-crdc-data.zip" {
				t.Fatalf("member %q spooled %v etag %q location %s", s.Member(), s.Spooled(), s.ETag(), s.Location())
			}
		})
	}
}

func TestZipMemberWithoutRanges(t *testing.T) {
	archive, support, _ := crdcArchive(t)
	srv := newFileServer(t, archive)
	srv.noRanges = true
	scratch := t.TempDir()
	s, got := readMember(t, memberSource(srv.URL+"/crdc.zip", "SCH/School Support.csv"), Options{TempDir: scratch})
	if !bytes.Equal(got, support) {
		t.Fatal("the member read is not the member")
	}
	requests, sent := srv.counts()
	if requests != 1 || sent != int64(len(archive)) || s.Fetched() != sent || !s.Spooled() {
		t.Fatalf("%d requests, %d bytes sent, %d fetched, spooled %v: want the archive (%d bytes) once, spooled",
			requests, sent, s.Fetched(), s.Spooled(), len(archive))
	}
	if left, _ := os.ReadDir(scratch); len(left) != 0 {
		t.Fatalf("the scratch copy was left behind: %v", left)
	}
}

func TestZipMissingMember(t *testing.T) {
	archive, _, _ := crdcArchive(t)
	srv := newFileServer(t, archive)
	for _, noRanges := range []bool{false, true} {
		srv.noRanges = noRanges
		_, err := OpenWith(context.Background(), memberSource(srv.URL+"/crdc.zip", "SCH/School Suport.csv"), noEnv, Options{TempDir: t.TempDir()})
		want := `source crdc-support: ` + srv.URL + `/crdc.zip has no member "SCH/School Suport.csv" (names are exact paths); ` +
			`the closest of its 4 files: "SCH/School Support.csv", "SCH/Enrollment.csv", ` +
			`"LEA/LEA Characteristics.csv", "SCH/Harassment and Bullying.csv"`
		if err == nil || err.Error() != want {
			t.Fatalf("ranges %v: error = %v\nwant    %s", !noRanges, err, want)
		}
	}
}

func TestZipBadArchives(t *testing.T) {
	archive, _, _ := crdcArchive(t)
	bzip2 := buildZipRaw(t, "SCH/School Support.csv", 12, []byte("BZh91AY&SY not really"))
	cases := []struct {
		name, member string
		body         []byte
		want         string
	}{
		{"not an archive", "SCH/School Support.csv", []byte(csvBody),
			`source crdc-support: URL is not a ZIP archive (or is cut short), so it has no member "SCH/School Support.csv"`},
		{"truncated", "SCH/School Support.csv", archive[:len(archive)/2],
			`source crdc-support: URL is not a ZIP archive (or is cut short), so it has no member "SCH/School Support.csv"`},
		{"empty", "SCH/School Support.csv", nil,
			`source crdc-support: URL is empty, so it has no member "SCH/School Support.csv"`},
		{"a folder", "SCH/", buildZip(t, member{"SCH/", nil, zip.Store}, member{"SCH/a.csv", []byte("a"), zip.Store}),
			`source crdc-support: URL has no member "SCH/" (names are exact paths); the closest of its 1 files: "SCH/a.csv"`},
		{"unknown compression", "SCH/School Support.csv", bzip2,
			`source crdc-support: URL member "SCH/School Support.csv" is compressed with method 12; only stored (0) and deflated (8) members can be read`},
	}
	for _, tc := range cases {
		for _, noRanges := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s ranges=%v", tc.name, !noRanges), func(t *testing.T) {
				srv := newFileServer(t, tc.body)
				srv.noRanges = noRanges
				if tc.name == "empty" && noRanges {
					// Without ranges an empty body is a file that is not an archive.
					tc.want = strings.Replace(tc.want, "is empty", "is not a ZIP archive (or is cut short)", 1)
				}
				_, err := OpenWith(context.Background(), memberSource(srv.URL+"/x.zip", tc.member), noEnv, Options{TempDir: t.TempDir()})
				want := strings.ReplaceAll(tc.want, "URL", srv.URL+"/x.zip")
				if err == nil || err.Error() != want {
					t.Fatalf("error = %v\nwant    %s", err, want)
				}
			})
		}
	}

	t.Run("corrupt data", func(t *testing.T) {
		damaged := bytes.Clone(archive)
		// Flip bytes inside the stored Enrollment.csv: the CRC-32 check catches it.
		at := bytes.Index(damaged, []byte("WI,5500500,00500"))
		damaged[at+3] = '9'
		srv := newFileServer(t, damaged)
		s, err := Open(context.Background(), memberSource(srv.URL+"/x.zip", "SCH/Enrollment.csv"), noEnv)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_, err = io.ReadAll(s)
		want := fmt.Sprintf(`source crdc-support: reading %s/x.zip member "SCH/Enrollment.csv" after %d bytes: the member's CRC-32 does not match its content`,
			srv.URL, s.Bytes())
		if err == nil || err.Error() != want {
			t.Fatalf("error = %v\nwant    %s", err, want)
		}
	})
}

// buildZipRaw makes an archive of one member whose bytes and method are given as is.
func buildZipRaw(t *testing.T, name string, method uint16, raw []byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: method, CompressedSize64: uint64(len(raw)), UncompressedSize64: 100})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestZipChangedWhileRead: a file replaced between the requests of one read (after the
// directory, after the member's header) is caught by If-Range, on the ETag or, when the
// server gives none, on Last-Modified.
func TestZipChangedWhileRead(t *testing.T) {
	archive, _, _ := crdcArchive(t)
	newer := buildZip(t, member{"SCH/School Support.csv", schoolCSV(6000), zip.Deflate})
	for _, noETag := range []bool{false, true} {
		for _, at := range []int{2, 3} {
			t.Run(fmt.Sprintf("etag=%v request=%d", !noETag, at), func(t *testing.T) {
				srv := newFileServer(t, archive)
				srv.noETag, srv.next, srv.changeAt = noETag, newer, at
				s, err := Open(context.Background(), memberSource(srv.URL+"/crdc.zip", "SCH/School Support.csv"), noEnv)
				if err == nil {
					defer s.Close()
					_, err = io.ReadAll(s)
				}
				want := `source crdc-support: reading ` + srv.URL + `/crdc.zip member "SCH/School Support.csv"`
				if err == nil || !strings.HasPrefix(err.Error(), want) ||
					!strings.Contains(err.Error(), ": the archive changed while it was read: the server sent the whole file instead of bytes ") {
					t.Fatalf("error = %v", err)
				}
			})
		}
	}
}

func gzipped(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGzipDecompressed(t *testing.T) {
	body := schoolCSV(2000)
	gz := gzipped(t, body)
	srv := newFileServer(t, gz)
	src := httpSource("crdc-support", srv.URL+"/School%20Support.csv.gz")
	src.SHA256 = sum(string(body)) // the checksum of what is parsed
	s, got, err := readAll(t, src, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(body) || !s.Gzip() || s.Bytes() != int64(len(body)) || s.Fetched() != int64(len(gz)) || s.Size() != -1 {
		t.Fatalf("gzip %v, %d bytes read (want %d), %d fetched (want %d), size %d",
			s.Gzip(), s.Bytes(), len(body), s.Fetched(), len(gz), s.Size())
	}

	// A gzip file inside an archive is decompressed too, whatever its name.
	srv2 := newFileServer(t, buildZip(t, member{"SCH/School Support.csv", gz, zip.Store}))
	s, b := readMember(t, memberSource(srv2.URL+"/crdc.zip", "SCH/School Support.csv"), Options{})
	if !bytes.Equal(b, body) || !s.Gzip() {
		t.Fatalf("a gzip member was not decompressed (gzip %v, %d bytes)", s.Gzip(), len(b))
	}

	// Not gzip, not touched: the plain path is as before.
	s, got, err = readAll(t, plan.Source{Name: "plain", Inline: ptr(csvBody)}, nil)
	if err != nil || got != csvBody || s.Gzip() || s.Fetched() != int64(len(csvBody)) {
		t.Fatalf("plain: %q %v gzip %v fetched %d", got, err, s.Gzip(), s.Fetched())
	}

	bad := bytes.Clone(gz)
	bad[len(bad)-6] ^= 0xff // the CRC-32 in the trailer
	srv3 := newFileServer(t, bad)
	_, _, err = readAll(t, httpSource("s", srv3.URL+"/x.gz"), noEnv)
	if err == nil || !strings.HasSuffix(err.Error(), "gzip: invalid checksum") {
		t.Fatalf("a damaged gzip file: %v", err)
	}
}

// TestByteLimitCountsDecompressed: maxBytes bounds what is parsed, not what is fetched.
func TestByteLimitCountsDecompressed(t *testing.T) {
	body := bytes.Repeat([]byte("5508520,00001,1.5\n"), 10000) // 180,000 bytes
	gz := gzipped(t, body)
	srv := newFileServer(t, gz)
	s, got, err := readAll(t, withMax(httpSource("s", srv.URL+"/bomb.gz"), 50000), noEnv)
	want := "source s: " + srv.URL + "/bomb.gz is larger than the limit of 50000 bytes (maxBytes)"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
	if len(got) != 50000 || s.Fetched() >= 50000 {
		t.Fatalf("read %d bytes, fetched %d (of a %d-byte file)", len(got), s.Fetched(), len(gz))
	}

	// A member's size is in the directory: the run fails before its data is fetched.
	srv2 := newFileServer(t, buildZip(t, member{"big.csv", body, zip.Deflate}))
	_, err = Open(context.Background(), withMax(memberSource(srv2.URL+"/a.zip", "big.csv"), 50000), noEnv)
	want = fmt.Sprintf(`source crdc-support: %s/a.zip member "big.csv" is %d bytes, over the limit of 50000 bytes (maxBytes)`, srv2.URL, len(body))
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
}

// replace serves other content from now on, modified a day later.
func (fs *fileServer) replace(data []byte) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.data, fs.modified = data, fs.modified.Add(24*time.Hour)
}

// TestConditionalFetch: with the ETag or Last-Modified of a previous fetch, an unchanged
// file costs one request and no body; a changed one is read.
func TestConditionalFetch(t *testing.T) {
	archive, support, _ := crdcArchive(t)
	for _, tc := range []struct {
		name   string
		member string
		noETag bool
	}{
		{"plain file, ETag", "", false},
		{"plain file, Last-Modified", "", true},
		{"member, ETag", "SCH/School Support.csv", false},
		{"member, Last-Modified", "SCH/School Support.csv", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, want := support, support
			if tc.member != "" {
				body = archive
			}
			srv := newFileServer(t, body)
			srv.noETag = tc.noETag
			src := memberSource(srv.URL+"/f", tc.member)
			first, _ := readMember(t, src, Options{})
			if first.LastModified() != "Sun, 01 Oct 2023 00:00:00 GMT" || (first.ETag() == "") != tc.noETag {
				t.Fatalf("first fetch: Last-Modified %q, ETag %q", first.LastModified(), first.ETag())
			}
			seen := Options{IfNoneMatch: first.ETag(), IfModifiedSince: first.LastModified()}

			req0, sent0 := srv.counts()
			_, err := OpenWith(context.Background(), src, noEnv, seen)
			req1, sent1 := srv.counts()
			wantErr := "source crdc-support: " + srv.URL + "/f: not modified since the last fetch"
			if !errors.Is(err, ErrNotModified) || err.Error() != wantErr {
				t.Fatalf("error = %v\nwant    %s", err, wantErr)
			}
			if req1-req0 != 1 || sent1 != sent0 {
				t.Fatalf("an unchanged file cost %d requests and %d bytes", req1-req0, sent1-sent0)
			}

			if tc.member != "" {
				body = buildZip(t, member{tc.member, want[:1000], zip.Deflate})
			} else {
				body = want[:1000]
			}
			srv.replace(body)
			s, got := readMember(t, src, seen)
			if !bytes.Equal(got, want[:1000]) || s.LastModified() != "Mon, 02 Oct 2023 00:00:00 GMT" {
				t.Fatalf("the changed file: %d bytes, Last-Modified %q", len(got), s.LastModified())
			}
		})
	}
}

// TestZipLargeMemberStreams: a member far larger than what a run may hold in memory is
// read as a stream, in ranges and from a scratch copy alike.
func TestZipLargeMemberStreams(t *testing.T) {
	const size = 128 << 20
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "SCH/School Support.csv", Method: zip.Deflate})
	if err != nil {
		t.Fatal(err)
	}
	line := []byte("WI,5508520,00001,550852000001,1.50\r\n")
	for n := 0; n < size; n += len(line) {
		_, _ = w.Write(line)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	srv := newFileServer(t, buf.Bytes())
	for _, noRanges := range []bool{false, true} {
		srv.noRanges = noRanges
		src := withMax(memberSource(srv.URL+"/crdc.zip", "SCH/School Support.csv"), 1<<30)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s, err := OpenWith(context.Background(), src, noEnv, Options{TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, s)
		_ = s.Close()
		runtime.ReadMemStats(&after)
		allocated := after.TotalAlloc - before.TotalAlloc
		t.Logf("ranges=%v: read %d bytes (%d fetched) with %d bytes allocated", !noRanges, n, s.Fetched(), allocated)
		if err != nil || n < size {
			t.Fatalf("read %d bytes, %v", n, err)
		}
		if allocated > 16<<20 {
			t.Fatalf("allocated %d bytes to read a %d-byte member", allocated, n)
		}
	}
}
