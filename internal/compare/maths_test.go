package compare

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/districtlake/districtlake/internal/dataset"
)

func f(v float64) *float64 { return &v }
func i(v int64) *int64     { return &v }
func s(v string) *string   { return &v }
func d(v int32) *int32     { return &v }

func fstr(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

func TestGroupConstantsFollowTheDataset(t *testing.T) {
	if nRace != len(dataset.RaceEthnicities) {
		t.Fatalf("nRace = %d, dataset has %d race/ethnicity values", nRace, len(dataset.RaceEthnicities))
	}
	if len(groupNames) != nGroups || groupNames[groupIDEA] != "idea" || groupNames[groupEL] != "english_learner" {
		t.Fatalf("group names %v", groupNames)
	}
}

func TestStudentsPer(t *testing.T) {
	for _, tc := range []struct {
		name string
		enr  *int64
		fte  *float64
		want any
	}{
		{"ratio", i(1000), f(2.5), 400.0},
		{"zero FTE is no ratio", i(1000), f(0), nil},
		{"unknown FTE", i(1000), nil, nil},
		{"unknown enrollment", nil, f(3), nil},
		{"zero enrollment", i(0), f(1), 0.0},
	} {
		if got := fstr(StudentsPer(tc.enr, tc.fte)); got != tc.want {
			t.Errorf("%s: StudentsPer = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestMeets(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ratio *float64
		fte   *float64
		want  any
	}{
		{"under", f(200), f(5), true},
		{"exactly the standard meets it", f(250), f(4), true},
		{"over", f(250.01), f(4), false},
		{"no staff never meets", nil, f(0), false},
		{"unknown FTE is unknown", nil, nil, nil},
		{"unknown enrollment is unknown", nil, f(3), nil},
	} {
		got := Meets(tc.ratio, tc.fte, 250)
		var g any
		if got != nil {
			g = *got
		}
		if g != tc.want {
			t.Errorf("%s: Meets = %v, want %v", tc.name, g, tc.want)
		}
	}
}

func TestGap(t *testing.T) {
	for _, tc := range []struct {
		name string
		enr  *int64
		fte  *float64
		want any
	}{
		{"short by 1.5", i(1000), f(2.5), 1.5},
		{"meets: zero", i(1000), f(6), 0.0},
		{"no staff: all of it", i(1100), f(0), 4.4},
		{"unknown FTE", i(1000), nil, nil},
		{"unknown enrollment", nil, f(1), nil},
	} {
		if got := fstr(Gap(tc.enr, tc.fte, 250)); got != tc.want {
			t.Errorf("%s: Gap = %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := SumAll(f(1), f(2.5), f(0), f(0.5)); got == nil || *got != 4 {
		t.Errorf("SumAll = %v, want 4", fstr(got))
	}
	if got := SumAll(f(1), nil, f(2)); got != nil {
		t.Errorf("SumAll with an unknown = %v, want nil", *got)
	}
}

func TestRatesAndShares(t *testing.T) {
	if got := fstr(Per1000(i(15), i(3000))); got != 5.0 {
		t.Errorf("Per1000 = %v, want 5", got)
	}
	for _, tc := range []struct {
		name string
		got  *float64
	}{
		{"Per1000 unknown count", Per1000(nil, i(10))},
		{"Per1000 zero enrollment", Per1000(i(1), i(0))},
		{"Share zero total", Share(i(0), i(0))},
		{"Share unknown part", Share(nil, i(5))},
		{"RelativeRate zero enrollment share", RelativeRate(f(0.5), f(0))},
		{"RelativeRate unknown share", RelativeRate(nil, f(0.5))},
	} {
		if tc.got != nil {
			t.Errorf("%s = %v, want nil", tc.name, *tc.got)
		}
	}
	if got := fstr(Share(i(3), i(12))); got != 0.25 {
		t.Errorf("Share = %v, want 0.25", got)
	}
	if got := fstr(RelativeRate(f(0.5), f(0.25))); got != 2.0 {
		t.Errorf("RelativeRate = %v, want 2", got)
	}
	if got := fstr(RelativeRate(f(0), f(0.25))); got != 0.0 {
		t.Errorf("RelativeRate of no incidents = %v, want 0", got)
	}
}

func TestRank(t *testing.T) {
	got := Rank([]*float64{f(300), nil, f(120), f(300), f(90), nil, f(500)})
	want := []int32{3, 6, 2, 3, 1, 6, 5}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Rank = %v, want %v", got, want)
	}
	if got := Rank([]*float64{nil, nil}); !reflect.DeepEqual(got, []int32{1, 1}) {
		t.Fatalf("Rank of unknowns = %v, want [1 1]", got)
	}
	if got := Rank(nil); len(got) != 0 {
		t.Fatalf("Rank(nil) = %v", got)
	}
}

func TestMoney(t *testing.T) {
	if got := DistrictCost(i(160000000), i(80000000)); *got != 80000000 {
		t.Errorf("DistrictCost with a share = %d", *got)
	}
	if got := DistrictCost(i(160000000), nil); *got != 160000000 {
		t.Errorf("DistrictCost without a share = %d", *got)
	}
	if got := DistrictCost(nil, nil); got != nil {
		t.Errorf("DistrictCost of unknowns = %d", *got)
	}
	if got := fstr(PerStudent(i(80000000), i(4000))); got != 200.0 {
		t.Errorf("PerStudent = %v, want 200", got)
	}
	if got := fstr(FTEEquivalent(i(80000000), i(62000))); math.Abs(got.(float64)-12.903225806451612) > 1e-12 {
		t.Errorf("FTEEquivalent = %v", got)
	}
	if got := FTEEquivalent(i(100), nil); got != nil {
		t.Errorf("FTEEquivalent without a cost = %v", *got)
	}
	if got := RoundFTE(0.1 + 0.2); got != 0.3 {
		t.Errorf("RoundFTE(0.1+0.2) = %v", got)
	}
}

func TestCurrentContract(t *testing.T) {
	old := Contract{AgencyName: "A", Status: s("expired"), StartDate: d(100), EndDate: d(400)}
	later := Contract{AgencyName: "B", Status: s("terminated"), StartDate: d(200), EndDate: d(900)}
	open := Contract{AgencyName: "C", Status: s("suspended"), StartDate: d(300)}
	active1 := Contract{AgencyName: "D", Status: s("active"), StartDate: d(50), EndDate: d(2000)}
	active2 := Contract{AgencyName: "E", Status: s("active"), StartDate: d(60), EndDate: d(1000)}
	for _, tc := range []struct {
		name string
		in   []Contract
		want string
	}{
		{"an active one wins", []Contract{old, active1, later}, "D"},
		{"the latest-starting active one", []Contract{active1, active2}, "E"},
		{"else the latest end date", []Contract{old, later}, "B"},
		{"an unknown end date counts as earliest", []Contract{open, old}, "A"},
	} {
		got := CurrentContract(tc.in)
		if got == nil || got.AgencyName != tc.want {
			t.Errorf("%s: got %+v, want %s", tc.name, got, tc.want)
		}
	}
	if CurrentContract(nil) != nil {
		t.Error("no contracts should give nil")
	}
}

func TestContractInForce(t *testing.T) {
	day := func(iso string) *int32 {
		tm, err := time.Parse("2006-01-02", iso)
		if err != nil {
			t.Fatal(err)
		}
		return d(int32(tm.Unix() / 86400))
	}
	endedJune2021 := Contract{AgencyName: "Old", Status: s("expired"), StartDate: day("2017-07-01"), EndDate: day("2021-06-30")}
	endedJune2020 := Contract{AgencyName: "Older", Status: s("active"), EndDate: day("2020-06-30")}
	next := Contract{AgencyName: "Next", Status: s("terminated"), StartDate: day("2021-06-01"), EndDate: day("2024-06-30")}
	undated := Contract{AgencyName: "Undated"}
	for _, tc := range []struct {
		name, year string
		in         []Contract
		want       string
	}{
		{"a contract that ended in June 2021 was in force through 2020-21", "2020-21", []Contract{endedJune2021}, "Old"},
		{"one that ended in June 2020 was not, whatever its status", "2020-21", []Contract{endedJune2020}, ""},
		{"nor after its end", "2021-22", []Contract{endedJune2021}, ""},
		{"the one in force for the most days", "2020-21", []Contract{next, endedJune2021}, "Old"},
		{"a terminated contract was in force during its term", "2022-23", []Contract{endedJune2021, next}, "Next"},
		{"unknown dates leave the term open", "2015-16", []Contract{undated, endedJune2020}, "Older"},
		{"ties go to the latest start", "2018-19", []Contract{undated, endedJune2021}, "Old"},
		{"no contract", "2020-21", nil, ""},
		{"a malformed year", "20-21", []Contract{undated}, ""},
	} {
		got := ContractInForce(tc.in, tc.year)
		name := ""
		if got != nil {
			name = got.AgencyName
		}
		if name != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, name, tc.want)
		}
	}
}

func TestIncidentsCountOnlyFullyKnownSchools(t *testing.T) {
	in := newIncidents()
	add := func(school string, race int, idea, el bool, n *int64) {
		r := incidentRow{school: school, category: catArrest, race: race, idea: idea, el: el}
		if n != nil {
			r.count = optI{*n, true}
		}
		in.add(&r)
	}
	add("a", 4, false, false, i(3)) // black
	add("a", 4, true, false, i(2))  // black, IDEA
	add("a", 5, false, false, i(1)) // white
	add("a", -1, false, true, i(1)) // English learners (overlapping)
	add("b", 5, false, false, i(7))
	add("b", 4, false, false, nil) // suppressed: school b is not reporting
	add("c", 0, false, false, i(2))
	add("c", -1, false, true, nil) // c's total is known, its English learners are not
	// Enrollment: a and b known, c unknown (its counts stay in the total but not in rates).
	st := &staffSums{}
	known := func(v int64) optI { return optI{v, true} }
	var groups [nGroups]optI
	for g := range groups {
		groups[g] = known(10)
	}
	groups[4] = known(40)
	st.add(&staffRow{school: "a", enrollment: known(100), groups: groups})
	st.add(&staffRow{school: "b", enrollment: known(50), groups: groups})
	st.add(&staffRow{school: "c", groups: groups})
	sums := in.sums(st)[catArrest]
	if got := sums.total; got.v != 8 || got.n != 2 {
		t.Fatalf("total = %+v, want 8 over 2 schools", got)
	}
	if got := sums.rate; got.value != 6 || got.enrollment != 100 || got.n != 1 {
		t.Errorf("rate = %+v, want 6 arrests of 100 students (school a)", got)
	}
	if got := sums.groups[4]; got.part != 5 || got.total != 6 || got.n != 1 {
		t.Errorf("black = %+v, want 5 of 6 over school a", got)
	}
	if got := sums.groupEnrollment[4]; got.part != 40 || got.total != 100 {
		t.Errorf("black enrollment = %+v, want 40 of 100", got)
	}
	if got := sums.groups[groupIDEA]; got.part != 2 || got.total != 6 {
		t.Errorf("IDEA = %+v, want 2 of 6", got)
	}
	if got := sums.groups[groupEL]; got.part != 1 || got.total != 6 || got.n != 1 {
		t.Errorf("English learners = %+v, want 1 of 6 over 1 school", got)
	}
	if !sums.present[groupEL] || !sums.present[groupIDEA] {
		t.Errorf("IDEA and English learners should be present")
	}
	if got := in.sums(st)[catReferral].total.value(); got != nil {
		t.Errorf("referrals with no rows = %d, want nil", *got)
	}
}
