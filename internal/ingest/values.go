package ingest

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/districtlake/districtlake/internal/dataset"
)

// value is one cell of a canonical row. Numbers live in i (int32 counts, money in cents,
// dates as days since 1970-01-01, booleans as 0/1, timestamps in microseconds) or f (FTE);
// strings in s, which may borrow the reader's buffer until the row is handed on.
type value struct {
	ok bool // false: null
	i  int64
	f  float64
	s  []byte
}

func (v value) String() string {
	switch {
	case !v.ok:
		return "null"
	case v.s != nil:
		return strconv.Quote(string(v.s))
	case v.f != 0:
		return strconv.FormatFloat(v.f, 'f', -1, 64)
	}
	return strconv.FormatInt(v.i, 10)
}

// same says whether two cells hold the same value.
func (v value) same(o value) bool {
	return v.ok == o.ok && v.i == o.i && v.f == o.f && bytes.Equal(v.s, o.s)
}

// trim drops ASCII spaces and tabs around a cell.
func trim(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// quoted renders a raw cell for an error message: quoted, shortened, never invalid UTF-8.
func quoted(b []byte) string {
	if !utf8.Valid(b) {
		return fmt.Sprintf("%q", b)
	}
	if len(b) > 64 {
		return strconv.Quote(string(b[:60])) + "…"
	}
	return strconv.Quote(string(b))
}

// badNumber explains why a cell is not a number (invalid UTF-8 first).
func badNumber(b []byte, what string) string {
	if !utf8.Valid(b) {
		return fmt.Sprintf("%s is not valid UTF-8", quoted(b))
	}
	return fmt.Sprintf("%s is not %s", quoted(b), what)
}

// parseDecimal reads [-]digits[.digits] into a mantissa and the number of decimals. ok is
// false for anything else (exponents, thousands separators) or more than 18 digits.
func parseDecimal(b []byte) (neg bool, mant uint64, decimals int, ok bool) {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	digits, dot := 0, false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if digits == 18 {
				return false, 0, 0, false
			}
			mant = mant*10 + uint64(c-'0')
			digits++
			if dot {
				decimals++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return false, 0, 0, false
		}
	}
	return neg, mant, decimals, digits > 0
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
	1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat reads a finite number. Plain decimals of up to 15 digits take an exact fast
// path (mantissa and power of ten both exact in float64, so one division rounds
// correctly); anything else goes to strconv.
func parseFloat(b []byte) (float64, bool) {
	if neg, mant, dec, ok := parseDecimal(b); ok && mant < 1<<53 {
		f := float64(mant) / pow10[dec]
		if neg {
			f = -f
		}
		return f, true
	}
	if len(b) == 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// stripThousands removes thousands separators when they are well placed ("1,234,567.5").
func stripThousands(b []byte, scratch []byte) ([]byte, bool) {
	if bytes.IndexByte(b, ',') < 0 {
		return b, true
	}
	intPart := b
	frac := []byte(nil)
	if i := bytes.IndexByte(b, '.'); i >= 0 {
		intPart, frac = b[:i], b[i:]
	}
	sign := []byte(nil)
	if len(intPart) > 0 && (intPart[0] == '-' || intPart[0] == '+') {
		sign, intPart = intPart[:1], intPart[1:]
	}
	groups := bytes.Split(intPart, []byte{','})
	if len(groups[0]) < 1 || len(groups[0]) > 3 {
		return nil, false
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return nil, false
		}
	}
	out := append(scratch[:0], sign...)
	for _, g := range groups {
		out = append(out, g...)
	}
	return append(out, frac...), true
}

// parseCount reads a non-negative whole number that fits an int32 ("12", "1,204", "12.0").
func parseCount(b []byte, scratch []byte) (int64, string) {
	plain, ok := stripThousands(b, scratch)
	neg, mant, dec, ok2 := parseDecimal(plain)
	if !ok || !ok2 {
		return 0, badNumber(b, "a whole number")
	}
	for ; dec > 0; dec-- {
		if mant%10 != 0 {
			return 0, fmt.Sprintf("%s is not a whole number", quoted(b))
		}
		mant /= 10
	}
	if neg && mant != 0 {
		return 0, fmt.Sprintf("%s is negative", quoted(b))
	}
	if mant > math.MaxInt32 {
		return 0, fmt.Sprintf("%s is too large", quoted(b))
	}
	return int64(mant), ""
}

// parseFTE reads a non-negative full-time-equivalent figure.
func parseFTE(b []byte) (float64, string) {
	f, ok := parseFloat(b)
	if !ok {
		return 0, badNumber(b, "a number")
	}
	if f < 0 {
		return 0, fmt.Sprintf("%s is negative", quoted(b))
	}
	return f, ""
}

// maxMoneyCents is the largest decimal(14,2): 999,999,999,999.99.
const maxMoneyCents = 99999999999999

// parseMoney reads a non-negative US-dollar amount ("$1,234.50", "1234.5", "800") into
// cents; more than two decimal places (other than zeros) is an error, not a rounding.
func parseMoney(b []byte, scratch []byte) (int64, string) {
	raw := b
	if len(b) > 0 && b[0] == '$' {
		b = trim(b[1:])
	} else if len(b) > 1 && b[0] == '-' && b[1] == '$' {
		b = append(append(scratch[:0], '-'), b[2:]...)
		scratch = nil
	}
	plain, ok := stripThousands(b, scratch)
	neg, mant, dec, ok2 := parseDecimal(plain)
	if !ok || !ok2 {
		return 0, badNumber(raw, "an amount of money")
	}
	for ; dec > 2; dec-- {
		if mant%10 != 0 {
			return 0, fmt.Sprintf("%s has more than two decimal places", quoted(raw))
		}
		mant /= 10
	}
	for ; dec < 2; dec++ {
		mant *= 10
	}
	if neg && mant != 0 {
		return 0, fmt.Sprintf("%s is negative", quoted(raw))
	}
	if mant > maxMoneyCents {
		return 0, fmt.Sprintf("%s is too large for decimal(14,2)", quoted(raw))
	}
	return int64(mant), ""
}

var epoch = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// parseDate reads yyyy-mm-dd or m/d/yyyy into days since 1970-01-01.
func parseDate(b []byte) (int64, string) {
	y, m, d, ok := 0, 0, 0, false
	if len(b) == 10 && b[4] == '-' && b[7] == '-' {
		y, ok = digits(b[0:4])
		if ok {
			m, ok = digits(b[5:7])
		}
		if ok {
			d, ok = digits(b[8:10])
		}
	} else if parts := bytes.Split(b, []byte{'/'}); len(parts) == 3 && len(parts[2]) == 4 &&
		len(parts[0]) >= 1 && len(parts[0]) <= 2 && len(parts[1]) >= 1 && len(parts[1]) <= 2 {
		m, ok = digits(parts[0])
		if ok {
			d, ok = digits(parts[1])
		}
		if ok {
			y, ok = digits(parts[2])
		}
	}
	if !ok {
		return 0, badNumber(b, "a date (yyyy-mm-dd or m/d/yyyy)")
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return 0, fmt.Sprintf("%s is not a real date", quoted(b))
	}
	return int64(t.Sub(epoch) / (24 * time.Hour)), ""
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(b) > 0
}

// allDigits says whether b is exactly n ASCII digits.
func allDigits(b []byte, n int) bool {
	if len(b) != n {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// key normalises a label for lookup: lower case, runs of anything but letters and digits
// made one underscore ("Law Enforcement Referral" -> law_enforcement_referral).
func key(b []byte) string {
	out := make([]byte, 0, len(b))
	sep := false
	for _, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
			fallthrough
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c >= 0x80:
			if sep && len(out) > 0 {
				out = append(out, '_')
			}
			sep = false
			out = append(out, c)
		default:
			sep = true
		}
	}
	return string(out)
}

// Canonical labels, with the spellings sources use for them.
var (
	statusNames = map[string]string{
		"active": "active", "current": "active", "in_effect": "active", "in_force": "active", "ongoing": "active",
		"expired": "expired", "lapsed": "expired", "ended": "expired", "completed": "expired",
		"terminated": "terminated", "cancelled": "terminated", "canceled": "terminated", "ended_early": "terminated", "rescinded": "terminated",
		"suspended": "suspended", "paused": "suspended", "on_hold": "suspended",
	}
	sexNames = map[string]string{
		"m": "male", "male": "male", "boys": "male", "f": "female", "female": "female", "girls": "female",
		"x": "nonbinary", "nonbinary": "nonbinary", "non_binary": "nonbinary",
	}
	disabilityNames = map[string]string{
		"without_disability": "without_disability", "without_disabilities": "without_disability", "none": "without_disability", "no": "without_disability", "wodis": "without_disability",
		"idea": "idea", "with_disability": "idea", "with_disabilities": "idea", "swd": "idea", "iep": "idea", "wdis": "idea",
		"section_504": "section_504", "504": "section_504", "section504": "section_504",
	}
	categoryNames = map[string]string{
		"arrest": "arrest", "arrests": "arrest", "school_related_arrest": "arrest", "school_related_arrests": "arrest",
		"law_enforcement_referral": "law_enforcement_referral", "law_enforcement_referrals": "law_enforcement_referral",
		"referral": "law_enforcement_referral", "referrals": "law_enforcement_referral",
		"referral_to_law_enforcement": "law_enforcement_referral", "referrals_to_law_enforcement": "law_enforcement_referral",
	}
	boolNames = map[string]bool{"true": true, "t": true, "yes": true, "y": true, "1": true,
		"false": false, "f": false, "no": false, "n": false, "0": false}
	raceNames = func() map[string]string {
		m := map[string]string{
			"hispanic_or_latino": "hispanic", "latino": "hispanic",
			"american_indian_or_alaska_native": "american_indian_alaska_native",
			"black_or_african_american":        "black", "african_american": "black",
			"native_hawaiian_or_other_pacific_islander": "native_hawaiian_pacific_islander",
			"two_or_more": "two_or_more_races", "multiracial": "two_or_more_races",
		}
		for _, r := range dataset.RaceEthnicities {
			m[key([]byte(r.Code))] = r.Name
			m[r.Name] = r.Name
		}
		return m
	}()
)

// label maps a cell through a table of spellings.
func label(b []byte, names map[string]string, what string) ([]byte, string) {
	if v, ok := names[key(b)]; ok {
		return []byte(v), ""
	}
	if !utf8.Valid(b) {
		return nil, fmt.Sprintf("%s is not valid UTF-8", quoted(b))
	}
	return nil, fmt.Sprintf("%s is not %s", quoted(b), what)
}
