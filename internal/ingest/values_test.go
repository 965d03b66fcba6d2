package ingest

import (
	"math"
	"strconv"
	"testing"
)

func TestParseCount(t *testing.T) {
	for in, want := range map[string]any{
		"12": int64(12), "0": int64(0), "1,204": int64(1204), "12.0": int64(12), "+3": int64(3), "-0": int64(0),
		"2147483647": int64(math.MaxInt32),
		"12.5":       `"12.5" is not a whole number`, "-3": `"-3" is negative`, "1,20": `"1,20" is not a whole number`,
		"abc": `"abc" is not a whole number`, "2147483648": `"2147483648" is too large`, "1e3": `"1e3" is not a whole number`,
		"\xff": `"\xff" is not valid UTF-8`,
	} {
		n, msg := parseCount([]byte(in), nil)
		if w, ok := want.(int64); ok {
			if msg != "" || n != w {
				t.Errorf("parseCount(%q) = %d, %q; want %d", in, n, msg, w)
			}
		} else if msg != want {
			t.Errorf("parseCount(%q) error %q, want %q", in, msg, want)
		}
	}
}

func TestParseFTE(t *testing.T) {
	for in, want := range map[string]any{
		"1.5": 1.5, "0": 0.0, "0.1": 0.1, "2.25": 2.25, "1e-1": 0.1, "10": 10.0, "0.30000000000000004": 0.30000000000000004,
		"-0.5": `"-0.5" is negative`, "NaN": `"NaN" is not a number`, "Inf": `"Inf" is not a number`, "1.2.3": `"1.2.3" is not a number`,
	} {
		f, msg := parseFTE([]byte(in))
		if w, ok := want.(float64); ok {
			if msg != "" || f != w {
				t.Errorf("parseFTE(%q) = %v, %q; want %v", in, f, msg, w)
			}
		} else if msg != want {
			t.Errorf("parseFTE(%q) error %q, want %q", in, msg, want)
		}
	}
}

// The fast path must round exactly like strconv for every decimal it takes.
func TestParseFloatMatchesStrconv(t *testing.T) {
	for _, in := range []string{"0.1", "0.2", "0.3", "1.15", "2.675", "123456.789", "999999999999999", "0.000001", "4.35", "8.41"} {
		f, ok := parseFloat([]byte(in))
		if want, _ := parseFloatStrconv(in); !ok || f != want {
			t.Errorf("parseFloat(%q) = %v, strconv %v", in, f, want)
		}
	}
}

func TestParseMoney(t *testing.T) {
	for in, want := range map[string]any{
		"$1,234,567.50": int64(123456750), "85000": int64(8500000), "0.5": int64(50), "$ 12": int64(1200), "12.300": int64(1230),
		"999999999999.99": int64(99999999999999),
		"12.345":          `"12.345" has more than two decimal places`, "-$5": `"-$5" is negative`, "-5": `"-5" is negative`,
		"1000000000000": `"1000000000000" is too large for decimal(14,2)`, "USD 5": `"USD 5" is not an amount of money`,
	} {
		n, msg := parseMoney([]byte(in), nil)
		if w, ok := want.(int64); ok {
			if msg != "" || n != w {
				t.Errorf("parseMoney(%q) = %d, %q; want %d", in, n, msg, w)
			}
		} else if msg != want {
			t.Errorf("parseMoney(%q) error %q, want %q", in, msg, want)
		}
	}
}

func TestParseDate(t *testing.T) {
	for in, want := range map[string]any{
		"1970-01-02": int64(1), "2023-07-01": int64(19539), "7/1/2023": int64(19539), "07/01/2023": int64(19539), "2024-02-29": int64(19782),
		"2023-02-29": `"2023-02-29" is not a real date`, "13/1/2023": `"13/1/2023" is not a real date`,
		"2023/07/01": `"2023/07/01" is not a date (yyyy-mm-dd or m/d/yyyy)`, "July 1, 2023": `"July 1, 2023" is not a date (yyyy-mm-dd or m/d/yyyy)`,
	} {
		n, msg := parseDate([]byte(in))
		if w, ok := want.(int64); ok {
			if msg != "" || n != w {
				t.Errorf("parseDate(%q) = %d, %q; want %d", in, n, msg, w)
			}
		} else if msg != want {
			t.Errorf("parseDate(%q) error %q, want %q", in, msg, want)
		}
	}
}

func TestLabels(t *testing.T) {
	for _, c := range []struct {
		names      map[string]string
		in, want   string
		wantErrMsg bool
	}{
		{statusNames, "Active", "active", false}, {statusNames, "IN EFFECT", "active", false}, {statusNames, "Cancelled", "terminated", false},
		{statusNames, "on hold", "suspended", false}, {statusNames, "pending", "", true},
		{sexNames, "F", "female", false}, {sexNames, "Non-binary", "nonbinary", false},
		{raceNames, "Black or African American", "black", false}, {raceNames, "HI", "hispanic", false}, {raceNames, "Two or more races", "two_or_more_races", false},
		{disabilityNames, "504", "section_504", false}, {disabilityNames, "IDEA", "idea", false},
	} {
		got, msg := label([]byte(c.in), c.names, "x")
		if (msg != "") != c.wantErrMsg || string(got) != c.want {
			t.Errorf("label(%q) = %q, %q; want %q", c.in, got, msg, c.want)
		}
	}
}

func TestCRDCReserveCodes(t *testing.T) {
	for n := int64(-20); n <= 0; n++ {
		want := n <= -2 && n >= -13 && n != -10 && n != -1
		if crdcReserve(n) != want {
			t.Errorf("crdcReserve(%d) = %v", n, !want)
		}
	}
}

func parseFloatStrconv(s string) (float64, error) { return strconv.ParseFloat(s, 64) }
