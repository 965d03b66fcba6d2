package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/districtlake/districtlake/internal/dataset"
)

// MaxChartRows is the most districts a chart shows (the ones that stand out most); the
// table lists them all.
const MaxChartRows = 30

// Render writes the report as one self-contained HTML page.
func Render(w io.Writer, d Data) error {
	if d.State == "" || d.SchoolYear == "" {
		return fmt.Errorf("report: state and school year are required")
	}
	page, err := buildPage(&d)
	if err != nil {
		return err
	}
	if err := pageTemplate.Execute(w, page); err != nil {
		return fmt.Errorf("report: writing the page: %w", err)
	}
	return nil
}

// figure is one chart with its caption.
type figure struct {
	ID, Title, Caption string
	SVG                template.HTML
	Empty              string
}

type page struct {
	*Data
	Figures   []figure
	Rows      []District
	GroupRows []groupRow
	Generated string
	CostsNote string
}

func buildPage(d *Data) (*page, error) {
	p := &page{Data: d, Generated: d.GeneratedAt.UTC().Format("2 January 2006 15:04 MST")}
	p.Rows = append([]District(nil), d.Districts...)
	sort.SliceStable(p.Rows, func(i, j int) bool { return p.Rows[i].Name < p.Rows[j].Name })
	p.GroupRows = statewideGroups(d.Groups)
	p.CostsNote = costsNote(d.Costs)
	for _, mk := range []func(*Data, []groupRow) (figure, error){counselorFigure, gapFigure, arrestsFigure, ratesFigure} {
		f, err := mk(d, p.GroupRows)
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		p.Figures = append(p.Figures, f)
	}
	return p, nil
}

// topRows sorts districts by key, highest first with unknown values last (or first when
// unknownFirst), and keeps MaxChartRows of them.
func topRows(ds []District, key func(*District) *float64, unknownFirst bool) []District {
	out := append([]District(nil), ds...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := key(&out[i]), key(&out[j])
		switch {
		case a == nil && b == nil:
			return out[i].Name < out[j].Name
		case a == nil:
			return unknownFirst
		case b == nil:
			return !unknownFirst
		case *a != *b:
			return *a > *b
		}
		return out[i].Name < out[j].Name
	})
	if len(out) > MaxChartRows {
		out = out[:MaxChartRows]
	}
	return out
}

func chartFigure(id, title, caption string, c *barChart) (figure, error) {
	f := figure{ID: id, Title: title, Caption: caption}
	if len(c.labels) == 0 {
		f.Empty = "No district has this figure."
		return f, nil
	}
	svg, err := c.svg(title)
	if err != nil {
		return f, err
	}
	f.SVG = template.HTML(svg) // built by gonum/plot, whose SVG writer escapes all text
	return f, nil
}

func shownOf(n, total int) string {
	if n < total {
		return fmt.Sprintf("The %d of %d districts that stand out most are shown; the table below lists all.", n, total)
	}
	return ""
}

func counselorFigure(d *Data, _ []groupRow) (figure, error) {
	std := float64(d.Standards.Counselor)
	rows := topRows(d.Districts, func(x *District) *float64 { return x.StudentsPerCounselor }, false)
	c := &barChart{xLabel: "Students per counselor FTE", refs: []reference{{at: std, label: fmt.Sprintf("Standard: %s", Thousands(int64(std)))}}}
	s := series{name: "Students per counselor", color: colorPrimary}
	for _, r := range rows {
		label := r.Name
		if r.StudentsPerCounselor == nil {
			label += " (n/a)"
		}
		c.labels = append(c.labels, label)
		s.values = append(s.values, r.StudentsPerCounselor)
	}
	c.series = []series{s}
	caption := fmt.Sprintf("Students per school counselor FTE by district, against the recommended %s (dashed line); longer bars are worse. ", Thousands(int64(std)))
	none, unknown := 0, 0
	for _, x := range d.Districts {
		switch {
		case x.CounselorsFTE != nil && *x.CounselorsFTE == 0:
			none++
		case x.StudentsPerCounselor == nil:
			unknown++
		}
	}
	if none > 0 {
		caption += fmt.Sprintf("%d district(s) report no counselor at all (0 FTE): no ratio, no bar. ", none)
	}
	if unknown > 0 {
		caption += fmt.Sprintf("%d district(s) have no known ratio (counselor FTE or enrollment n/a). ", unknown)
	}
	return chartFigure("counselors", "Students per counselor", caption+shownOf(len(rows), len(d.Districts)), c)
}

func gapFigure(d *Data, _ []groupRow) (figure, error) {
	rows := topRows(d.Districts, func(x *District) *float64 { return x.SupportGapFTE }, false)
	c := &barChart{xLabel: "FTE"}
	gap := series{name: "Support-staff gap", color: colorPrimary}
	cops := series{name: "Sworn officers", color: colorSecondary}
	for _, r := range rows {
		label := r.Name
		if r.SupportGapFTE == nil || r.SwornOfficersFTE == nil {
			label += " (n/a)"
		}
		c.labels = append(c.labels, label)
		gap.values = append(gap.values, r.SupportGapFTE)
		cops.values = append(cops.values, r.SwornOfficersFTE)
	}
	c.series = []series{gap, cops}
	caption := "Support-staff gap (the counselors, nurses, psychologists and social workers a district would have to add to meet all four standards, in FTE) beside its sworn officers (FTE). "
	return chartFigure("gap", "Support-staff gap and sworn officers", caption+shownOf(len(rows), len(d.Districts)), c)
}

func arrestsFigure(d *Data, _ []groupRow) (figure, error) {
	rows := topRows(d.Districts, func(x *District) *float64 { return x.ArrestsPer1000 }, false)
	c := &barChart{xLabel: "Per 1,000 students enrolled"}
	arr := series{name: "Arrests per 1,000", color: colorReference}
	ref := series{name: "Referrals to law enforcement per 1,000", color: colorSecondary}
	for _, r := range rows {
		label := r.Name
		if r.ArrestsPer1000 == nil {
			label += " (n/a)"
		}
		c.labels = append(c.labels, label)
		arr.values = append(arr.values, r.ArrestsPer1000)
		ref.values = append(ref.values, r.ReferralsPer1000)
	}
	c.series = []series{arr, ref}
	caption := "School-related arrests and referrals to law enforcement per 1,000 students enrolled. Counts suppressed in the source are unknown, not zero. "
	return chartFigure("arrests", "Arrests and referrals per 1,000 students", caption+shownOf(len(rows), len(d.Districts)), c)
}

func ratesFigure(_ *Data, groups []groupRow) (figure, error) {
	c := &barChart{xLabel: "Share of incidents / share of enrollment", refs: []reference{{at: 1, label: "Proportionate: 1.0"}}}
	arr := series{name: "Arrests", color: colorReference}
	ref := series{name: "Referrals", color: colorSecondary}
	sorted := append([]groupRow(nil), groups...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i].ArrestRate, sorted[j].ArrestRate
		return b == nil && a != nil || a != nil && b != nil && *a > *b
	})
	for _, g := range sorted {
		c.labels = append(c.labels, g.Label)
		arr.values = append(arr.values, g.ArrestRate)
		ref.values = append(ref.values, g.ReferralRate)
	}
	c.series = []series{arr, ref}
	caption := "Statewide relative rate by student group: the group's share of arrests (or referrals) over its share of enrollment, summed over the schools that report both. Above 1.0 the group is arrested or referred more often than its share of students."
	return chartFigure("rates", "Relative rates by student group", caption, c)
}

// groupRow is one student group summed over the state.
type groupRow struct {
	Label                                    string
	EnrollmentShare, ArrestShare, ArrestRate *float64
	ReferralShare, ReferralRate              *float64
	Enrollment, Arrests, Referrals           *int64
}

var groupLabels = map[string]string{
	"hispanic":                         "Hispanic or Latino",
	"american_indian_alaska_native":    "American Indian or Alaska Native",
	"asian":                            "Asian",
	"native_hawaiian_pacific_islander": "Native Hawaiian or Pacific Islander",
	"black":                            "Black or African American",
	"white":                            "White",
	"two_or_more_races":                "Two or more races",
	"idea":                             "Students with disabilities (IDEA)",
	"english_learner":                  "English learners",
}

// statewideGroups sums the district group rows into one row per group, in first-seen order.
func statewideGroups(gs []Group) []groupRow {
	type acc struct{ ge, ce, ga, ca, gr, cr, gea, ea, ger, er sum }
	var order []string
	sums := map[string]*acc{}
	for _, g := range gs {
		a := sums[g.Group]
		if a == nil {
			a = &acc{}
			sums[g.Group] = a
			order = append(order, g.Group)
		}
		a.ge.add(g.GroupEnrollment)
		a.ce.add(g.CoveredEnrollment)
		a.ga.add(g.GroupArrests)
		a.ca.add(g.CoveredArrests)
		a.gr.add(g.GroupReferrals)
		a.cr.add(g.CoveredReferrals)
		a.gea.add(g.GroupEnrollmentArrests)
		a.ea.add(g.EnrollmentArrests)
		a.ger.add(g.GroupEnrollmentReferrals)
		a.er.add(g.EnrollmentReferrals)
	}
	var out []groupRow
	for _, name := range order {
		a := sums[name]
		label := groupLabels[name]
		if label == "" {
			label = name
		}
		r := groupRow{Label: label, Enrollment: a.ge.value(), Arrests: a.ga.value(), Referrals: a.gr.value()}
		r.EnrollmentShare = ratio(a.ge.value(), a.ce.value())
		r.ArrestShare = ratio(a.ga.value(), a.ca.value())
		r.ReferralShare = ratio(a.gr.value(), a.cr.value())
		// A relative rate compares the group's share of incidents with its share of the
		// students of the same schools.
		r.ArrestRate = divide(r.ArrestShare, ratio(a.gea.value(), a.ea.value()))
		r.ReferralRate = divide(r.ReferralShare, ratio(a.ger.value(), a.er.value()))
		out = append(out, r)
	}
	return out
}

type sum struct {
	v  int64
	ok bool
}

func (s *sum) add(v *int64) {
	if v != nil {
		s.v += *v
		s.ok = true
	}
}

func (s sum) value() *int64 {
	if !s.ok {
		return nil
	}
	return &s.v
}

func ratio(a, b *int64) *float64 {
	if a == nil || b == nil || *b == 0 {
		return nil
	}
	v := float64(*a) / float64(*b)
	return &v
}

func divide(a, b *float64) *float64 {
	if a == nil || b == nil || *b == 0 {
		return nil
	}
	v := *a / *b
	return &v
}

func costsNote(c *dataset.Costs) string {
	if c == nil {
		return ""
	}
	var parts []string
	for role, v := range c.All() {
		if v != nil {
			parts = append(parts, fmt.Sprintf("%s $%s", role.Label(), Thousands(*v)))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "Annual cost of one FTE used to express contract costs as staff: " + strings.Join(parts, ", ") + "."
}

// Thousands formats an integer with comma thousands separators, such as 1,234 (for the
// report and the local run's tables).
func Thousands(v int64) string {
	s := strconv.FormatInt(v, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Template functions: every nil is "n/a".
var funcs = template.FuncMap{
	"int": func(v *int64) string {
		if v == nil {
			return "n/a"
		}
		return Thousands(*v)
	},
	"num": func(places int, v *float64) string {
		if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
			return "n/a"
		}
		s := strconv.FormatFloat(*v, 'f', places, 64)
		whole, frac, _ := strings.Cut(s, ".")
		n, _ := strconv.ParseInt(whole, 10, 64)
		out := Thousands(n)
		if strings.HasPrefix(whole, "-0") {
			out = "-0"
		}
		if frac != "" {
			out += "." + frac
		}
		return out
	},
	"pct": func(v *float64) string {
		if v == nil {
			return "n/a"
		}
		return strconv.FormatFloat(*v*100, 'f', 1, 64) + "%"
	},
	"dollars": func(v *float64) string {
		if v == nil {
			return "n/a"
		}
		cents := int64(math.Round(*v * 100))
		return fmt.Sprintf("$%s.%02d", Thousands(cents/100), cents%100)
	},
	"str": func(v *string) string {
		if v == nil || *v == "" {
			return "n/a"
		}
		return *v
	},
	"over": func(v *float64, limit int32) bool { return v != nil && *v > float64(limit) },
	// cover notes a figure that covers fewer than all schools: "3 of 5 schools reported
	// counselors".
	"cover": func(n, of int32, what string) string {
		if n >= of {
			return ""
		}
		return fmt.Sprintf("%d of %d schools reported %s", n, of, what)
	},
	"notInForce": func(v *bool) bool { return v != nil && !*v },
	"missing": func(v any) bool {
		switch x := v.(type) {
		case *float64:
			return x == nil
		case *int64:
			return x == nil
		case *string:
			return x == nil
		}
		return false
	},
}

var pageTemplate = template.Must(template.New("report").Funcs(funcs).Parse(pageHTML))
