package compare

import (
	"math"
	"sort"
	"strconv"
	"time"
)

// The pure arithmetic of the comparison. Every figure is a pointer: nil is unknown, and an
// unknown input makes an unknown result, never a zero.

// ftePlaces is the number of decimal places district FTE sums are rounded to, which hides
// float noise such as 0.30000000000000004 (sources report FTE to two places).
const ftePlaces = 4

// RoundFTE rounds a summed FTE to ftePlaces decimal places (half away from zero).
func RoundFTE(v float64) float64 {
	p := math.Pow(10, ftePlaces)
	return math.Round(v*p) / p
}

// StudentsPer is enrollment / fte: nil when either is unknown or fte is not positive.
func StudentsPer(enrollment *int64, fte *float64) *float64 {
	if enrollment == nil || fte == nil || *fte <= 0 {
		return nil
	}
	return ptr(float64(*enrollment) / *fte)
}

// Meets says whether studentsPer is at most recommended: false when fte is 0 (no staff
// meets no standard), nil when the ratio is otherwise unknown.
func Meets(studentsPer, fte *float64, recommended int32) *bool {
	if fte != nil && *fte == 0 {
		return ptr(false)
	}
	if studentsPer == nil {
		return nil
	}
	return ptr(*studentsPer <= float64(recommended))
}

// Gap is the FTE a district must add to meet the standard: max(0, enrollment/recommended -
// fte); nil when enrollment or fte is unknown.
func Gap(enrollment *int64, fte *float64, recommended int32) *float64 {
	if enrollment == nil || fte == nil || recommended <= 0 {
		return nil
	}
	return ptr(math.Max(0, float64(*enrollment)/float64(recommended)-*fte))
}

// SumAll adds values; nil when any is unknown.
func SumAll(values ...*float64) *float64 {
	var s float64
	for _, v := range values {
		if v == nil {
			return nil
		}
		s += *v
	}
	return &s
}

// Per1000 is count per 1,000 enrolled: nil when either is unknown or enrollment is 0.
func Per1000(count, enrollment *int64) *float64 {
	if count == nil || enrollment == nil || *enrollment == 0 {
		return nil
	}
	return ptr(float64(*count) / float64(*enrollment) * 1000)
}

// Share is part / total: nil when either is unknown or total is 0.
func Share(part, total *int64) *float64 {
	if part == nil || total == nil || *total == 0 {
		return nil
	}
	return ptr(float64(*part) / float64(*total))
}

// RelativeRate is a group's share of incidents over its share of enrollment: nil when either
// is unknown or the enrollment share is 0.
func RelativeRate(incidentShare, enrollmentShare *float64) *float64 {
	if incidentShare == nil || enrollmentShare == nil || *enrollmentShare == 0 {
		return nil
	}
	return ptr(*incidentShare / *enrollmentShare)
}

// Rank ranks values in ascending order, 1 for the smallest. Equal values share a rank and
// the next rank skips ("1, 2, 2, 4"); nil values all share the last rank, one past the
// number of known values.
func Rank(values []*float64) []int32 {
	idx := make([]int, 0, len(values))
	for i, v := range values {
		if v != nil {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return *values[idx[a]] < *values[idx[b]] })
	ranks := make([]int32, len(values))
	for pos, i := range idx {
		if pos > 0 && *values[idx[pos-1]] == *values[i] {
			ranks[i] = ranks[idx[pos-1]]
			continue
		}
		ranks[i] = int32(pos + 1)
	}
	last := int32(len(idx) + 1)
	for i, v := range values {
		if v == nil {
			ranks[i] = last
		}
	}
	return ranks
}

// DistrictCost is the district's share of a contract, or the whole annual cost when no
// share is given (cents).
func DistrictCost(annual, districtShare *int64) *int64 {
	if districtShare != nil {
		return districtShare
	}
	return annual
}

// PerStudent is a cost in cents divided by enrollment, in dollars: nil when either is
// unknown or enrollment is 0.
func PerStudent(cents, enrollment *int64) *float64 {
	if cents == nil || enrollment == nil || *enrollment == 0 {
		return nil
	}
	return ptr(float64(*cents) / 100 / float64(*enrollment))
}

// FTEEquivalent is how many FTE of a role a cost in cents would pay for at perFTE dollars a
// year: nil when either is unknown or perFTE is not positive.
func FTEEquivalent(cents, perFTE *int64) *float64 {
	if cents == nil || perFTE == nil || *perFTE <= 0 {
		return nil
	}
	return ptr(float64(*cents) / 100 / float64(*perFTE))
}

// Contract is one row of a district's contracts file; dates are days since 1970-01-01
// (Arrow date32) and money is in cents.
type Contract struct {
	AgencyName    string
	Status        *string
	StartDate     *int32
	EndDate       *int32
	AnnualCost    *int64
	DistrictShare *int64
	Officers      *int32
}

// SchoolYearDays is the first and last day of a school year "2023-24" (July 1, 2023 and
// June 30, 2024), in days since 1970-01-01; ok is false when year is not of that form.
func SchoolYearDays(year string) (first, last int32, ok bool) {
	if len(year) < 4 {
		return 0, 0, false
	}
	y, err := strconv.Atoi(year[:4])
	if err != nil {
		return 0, 0, false
	}
	day := func(t time.Time) int32 { return int32(t.Unix() / 86400) }
	return day(time.Date(y, time.July, 1, 0, 0, 0, 0, time.UTC)), day(time.Date(y+1, time.June, 30, 0, 0, 0, 0, time.UTC)), true
}

// ContractInForce picks the contract in force during a school year: one whose term
// (start_date to end_date, both days included) overlaps July 1 to June 30 of that year,
// whatever its status. An unknown start_date leaves the term open before, an unknown
// end_date open after (a contract with no dates is in force every year). When several
// overlap, the one in force for the most days of the year wins, then the latest
// start_date (unknown counts as earliest), then the agency name in order. nil when none
// is in force.
func ContractInForce(cs []Contract, year string) *Contract {
	first, last, ok := SchoolYearDays(year)
	if !ok {
		return nil
	}
	var best *Contract
	var bestDays int32
	for i := range cs {
		c := &cs[i]
		from, to := first, last
		if c.StartDate != nil {
			from = max(from, *c.StartDate)
		}
		if c.EndDate != nil {
			to = min(to, *c.EndDate)
		}
		days := to - from + 1
		if days <= 0 {
			continue
		}
		if best == nil || days > bestDays || days == bestDays && inForceBefore(best, c) {
			best, bestDays = c, days
		}
	}
	return best
}

// inForceBefore breaks a tie between contracts in force for as many days: whether b is a
// better pick than a.
func inForceBefore(a, b *Contract) bool {
	if c := cmpDate(a.StartDate, b.StartDate); c != 0 {
		return c < 0
	}
	return b.AgencyName < a.AgencyName
}

// CurrentContract picks the district's current contract, whose status and agency the
// comparison shows when no contract was in force during the school year: an active one (the latest
// start_date when several are active), else the one with the latest end_date (unknown
// dates count as earliest). Remaining ties go to the latest start_date, then the agency
// name in order. nil when there is none.
func CurrentContract(cs []Contract) *Contract {
	var best *Contract
	for i := range cs {
		c := &cs[i]
		if best == nil || contractBefore(best, c) {
			best = c
		}
	}
	return best
}

// contractBefore says whether b is a better pick than a.
func contractBefore(a, b *Contract) bool {
	aa, ba := isActive(a), isActive(b)
	if aa != ba {
		return ba
	}
	keys := [][2]*int32{{a.EndDate, b.EndDate}, {a.StartDate, b.StartDate}}
	if aa {
		keys[0], keys[1] = keys[1], keys[0]
	}
	for _, k := range keys {
		if c := cmpDate(k[0], k[1]); c != 0 {
			return c < 0
		}
	}
	return b.AgencyName < a.AgencyName
}

func isActive(c *Contract) bool { return c.Status != nil && *c.Status == "active" }

// cmpDate orders dates with unknown first.
func cmpDate(a, b *int32) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	case *a < *b:
		return -1
	case *a > *b:
		return 1
	}
	return 0
}

func ptr[T any](v T) *T { return &v }
