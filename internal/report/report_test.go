package report_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/report"
	"github.com/districtlake/districtlake/internal/testenv"
)

func f(v float64) *float64 { return &v }
func n(v int64) *int64     { return &v }
func s(v string) *string   { return &v }
func ptrBool(v bool) *bool { return &v }

// sample is a state of twelve districts with the unknowns a real one has.
func sample() report.Data {
	d := report.Data{
		State: "WI", SchoolYear: "2023-24", RunID: "run-7",
		GeneratedAt: time.Date(2024, 9, 1, 12, 0, 0, 0, time.UTC),
		Standards:   dataset.Standards{Counselor: 250, Nurse: 750, Psychologist: 500, SocialWorker: 250},
		Costs:       &dataset.Costs{Counselor: n(62000)},
		Sources:     []string{"staffing/state=WI/school_year=2023-24/", "incidents/state=WI/school_year=2023-24/"},
	}
	names := []string{"Madison Metropolitan", "Milwaukee Public Schools", "Green Bay Area Public", "Kenosha Unified",
		"Racine Unified", "Appleton Area", "Waukesha", "Eau Claire Area", "Janesville", "Sheboygan Area",
		"Oshkosh Area", "Rock & River <Cooperative>"}
	for i, name := range names {
		x := report.District{
			NCESID: fmt.Sprintf("55%05d", i), Name: name, Enrollment: n(int64(3000 + 2500*i)),
			StudentsPerCounselor: f(180 + 35*float64(i)), StudentsPerNurse: f(600 + 90*float64(i)),
			StudentsPerPsychologist: f(420 + 40*float64(i)), StudentsPerSocialWorker: f(300 + 50*float64(i)),
			SupportGapFTE: f(1.5 * float64(i)), SwornOfficersFTE: f(float64(i % 5)), SecurityGuardsFTE: f(2),
			SchoolsWithPoliceNoCounselor: n(int64(i % 3)), Arrests: n(int64(4 * i)),
			ArrestsPer1000: f(0.4 * float64(i)), ReferralsPer1000: f(0.9 * float64(i)),
			Schools: 5, SchoolsReportingCounselors: 5, SchoolsReportingNurses: 5, SchoolsReportingPsychologists: 5,
			SchoolsReportingSocialWorkers: 5, SchoolsReportingArrests: 5, SchoolsReportingReferrals: 5,
		}
		if i == 2 { // two schools did not report counselors
			x.SchoolsReportingCounselors = 3
		}
		if i == 3 { // a contract that ended before the school year
			x.ContractStatus, x.ContractInForce = s("expired"), ptrBool(false)
		}
		if i == 1 {
			x.ContractStatus, x.DistrictCost, x.ContractCostPerStudent = s("active"), f(800000), f(10.52)
		}
		x.CounselorsFTE = f(float64(*x.Enrollment) / *x.StudentsPerCounselor)
		if i == 4 { // no counselors: no ratio
			x.CounselorsFTE, x.StudentsPerCounselor, x.SupportGapFTE = f(0), nil, nil
		}
		if i == 7 { // incidents suppressed
			x.Arrests, x.ArrestsPer1000, x.ReferralsPer1000 = nil, nil, nil
		}
		d.Districts = append(d.Districts, x)
		for gi, g := range []string{"hispanic", "black", "white", "asian", "idea", "english_learner"} {
			d.Groups = append(d.Groups, report.Group{
				NCESID: x.NCESID, Group: g,
				GroupEnrollment: n(int64(100 * (gi + 1))), CoveredEnrollment: n(2100),
				GroupArrests: n(int64(2 * (6 - gi))), CoveredArrests: n(42),
				GroupReferrals: n(int64(3 * (6 - gi))), CoveredReferrals: n(63),
				GroupEnrollmentArrests: n(int64(100 * (gi + 1))), EnrollmentArrests: n(2100),
				GroupEnrollmentReferrals: n(int64(90 * (gi + 1))), EnrollmentReferrals: n(1800),
			})
		}
	}
	return d
}

// chromium finds Chromium (DISTRICTLAKE_CHROMIUM, else the Debian package's); under -short
// it skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	testenv.Needs(t, testenv.ServerChromium)
	for _, p := range []string{os.Getenv("DISTRICTLAKE_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("chromium not found (set DISTRICTLAKE_CHROMIUM or run hack/chromium.sh)")
	return ""
}

func runChromium(t *testing.T, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--hide-scrollbars"}
	cmd := exec.CommandContext(ctx, chromium(t), append(base, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.Bytes()
}

func render(t *testing.T, d report.Data) string {
	t.Helper()
	var buf bytes.Buffer
	if err := report.Render(&buf, d); err != nil {
		t.Fatalf("Render: %v", err)
	}
	dir := os.Getenv("DISTRICTLAKE_REPORT_DIR") // to keep the page and screenshot for a look
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "index.html")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReportIsSelfContained(t *testing.T) {
	page, err := os.ReadFile(render(t, sample()))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	// Nothing is fetched: no script, no external stylesheet, font or image; the only URLs
	// are the SVG namespaces.
	for _, bad := range []string{"<script", "<link", "@import", "url(", "<img", "<iframe"} {
		if strings.Contains(html, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	for _, u := range regexp.MustCompile(`(?:src|href)\s*=\s*"([^"]*)"`).FindAllStringSubmatch(html, -1) {
		t.Errorf("the page refers to %s", u[1])
	}
	for _, u := range regexp.MustCompile(`https?://[^"'\s<>]+`).FindAllString(html, -1) {
		if u != "http://www.w3.org/2000/svg" && u != "http://www.w3.org/1999/xlink" {
			t.Errorf("the page holds the URL %s", u)
		}
	}
	for _, want := range []string{
		"<title>WI 2023-24: support staff, police and arrests by district</title>",
		`aria-label="Students per counselor"`, "<figcaption", "Rock &amp; River &lt;Cooperative&gt;",
		"n/a", "$800,000.00", "counselor $62,000", "1 district(s) report no counselor at all (0 FTE)",
		"3 of 5 schools reported counselors", "expired<br><small>none in force this year</small>",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

func TestReportRendersInChromium(t *testing.T) {
	path := render(t, sample())
	shot := filepath.Join(filepath.Dir(path), "screenshot.png")
	runChromium(t, "--screenshot="+shot, "--window-size=1280,2000", "file://"+path)
	fh, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	b := img.Bounds()
	colours := map[uint32]bool{}
	nonWhite := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				nonWhite++
			}
		}
	}
	total := b.Dx() * b.Dy()
	if len(colours) < 50 || nonWhite < total/20 {
		t.Errorf("the screenshot looks blank: %d colours, %d of %d pixels not white", len(colours), nonWhite, total)
	}

	dom := string(runChromium(t, "--dump-dom", "file://"+path))
	if got := strings.Count(dom, "<svg"); got < 4 {
		t.Errorf("the DOM has %d <svg> elements, want 4", got)
	}
	if got := strings.Count(dom, "<figure"); got != 4 {
		t.Errorf("the DOM has %d figures, want 4", got)
	}
	if !strings.Contains(dom, "Standard: 250") {
		t.Error("the counselor chart lacks its 250 line label")
	}
	if !strings.Contains(dom, "Proportionate: 1.0") {
		t.Error("the relative-rate chart lacks its 1.0 line label")
	}
	// Bars are filled paths in the chart's colours; the first chart has one per district
	// with a ratio (eleven).
	first := dom[strings.Index(dom, "<svg"):]
	first = first[:strings.Index(first, "</svg>")]
	if got := strings.Count(first, "fill:#1F5F99"); got != 11 {
		t.Errorf("the counselor chart has %d bars, want 11", got)
	}
	for _, label := range []string{"Milwaukee Public Schools", "Racine Unified (n/a)"} {
		if !strings.Contains(first, label) {
			t.Errorf("the counselor chart lacks the label %q", label)
		}
	}
}

func TestReportLimitsChartRows(t *testing.T) {
	d := sample()
	base := d.Districts
	for i := 0; len(d.Districts) < 100; i++ {
		x := base[i%len(base)]
		x.NCESID = fmt.Sprintf("56%05d", i)
		x.Name = fmt.Sprintf("District %03d", i)
		d.Districts = append(d.Districts, x)
	}
	var buf bytes.Buffer
	if err := report.Render(&buf, d); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if !strings.Contains(html, fmt.Sprintf("The %d of 100 districts that stand out most are shown", report.MaxChartRows)) {
		t.Error("the caption does not say the chart is cut")
	}
	if got := strings.Count(html, "<tr>") - 1 - 1 - 6; got != 100 { // less the two header rows and six group rows
		t.Errorf("the table has %d district rows, want 100", got)
	}
}

func TestReportNeedsStateAndYear(t *testing.T) {
	if err := report.Render(&bytes.Buffer{}, report.Data{}); err == nil {
		t.Fatal("Render without a state should fail")
	}
}
