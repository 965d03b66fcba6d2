package cronhash

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/robfig/cron/v3"
)

func TestExpandIsStableAndValid(t *testing.T) {
	for _, schedule := range []string{"H 3 * * 1", "H H * * *", "H(0-29) 2 * * *", "H/15 * * * *", "H(10-40)/10 H(1-5) H * H"} {
		a, err := Expand(schedule, "wisconsin/wi-5508520")
		if err != nil {
			t.Fatalf("Expand(%q): %v", schedule, err)
		}
		b, _ := Expand(schedule, "wisconsin/wi-5508520")
		if a != b {
			t.Errorf("Expand(%q) is not stable: %q then %q", schedule, a, b)
		}
		if strings.Contains(a, "H") {
			t.Errorf("Expand(%q) = %q still holds H", schedule, a)
		}
		if _, err := cron.ParseStandard(a); err != nil {
			t.Errorf("Expand(%q) = %q does not parse: %v", schedule, a, err)
		}
	}
	if got, _ := Expand("0 3 * * 1", "any/key"); got != "0 3 * * 1" {
		t.Errorf("a schedule without H changed: %q", got)
	}
}

// 400 districts of a state on "H 3 * * 1" spread over the hour: every minute holds at most
// a handful, not 400 at once.
func TestExpandSpreadsAState(t *testing.T) {
	perMinute := map[int]int{}
	for i := range 400 {
		s, err := Expand("H 3 * * 1", fmt.Sprintf("wisconsin/wi-%07d", 5500000+i))
		if err != nil {
			t.Fatal(err)
		}
		m, _ := strconv.Atoi(strings.Fields(s)[0])
		if m < 0 || m > 59 || strings.Fields(s)[1] != "3" {
			t.Fatalf("%q is not a minute of 3 a.m.", s)
		}
		perMinute[m]++
	}
	most := 0
	for _, n := range perMinute {
		most = max(most, n)
	}
	if len(perMinute) < 55 || most > 16 {
		t.Errorf("400 districts used %d minutes, at most %d in one: not spread", len(perMinute), most)
	}
}

func TestExpandRanges(t *testing.T) {
	for i := range 200 {
		s, _ := Expand("H(0-29) H(1-5) * * *", fmt.Sprint("ns/", i))
		f := strings.Fields(s)
		m, _ := strconv.Atoi(f[0])
		h, _ := strconv.Atoi(f[1])
		if m > 29 || h < 1 || h > 5 {
			t.Fatalf("%q is outside H(0-29) H(1-5)", s)
		}
	}
}

func TestExpandErrors(t *testing.T) {
	for schedule, want := range map[string]string{
		"@daily H":        "five-field form",
		"H(0-70) * * * *": `minute field "H(0-70)": range "0-70" is not a-b within 0-59`,
		"H(5-1) * * * *":  `range "5-1"`,
		"H/0 * * * *":     `step "0" is not a number from 1 to 60`,
		"H(0-9 * * * *":   "unclosed H( range",
		"1H * * * *":      "H must start the field",
		"Hx * * * *":      `unexpected "x" after H`,
		"0 0 H(0-31) * *": `day of month field`,
	} {
		_, err := Expand(schedule, "ns/name")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Expand(%q) = %v, want an error with %q", schedule, err, want)
		}
	}
}
