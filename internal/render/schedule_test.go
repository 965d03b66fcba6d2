package render

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	"github.com/districtlake/districtlake/api/v1alpha1"
)

func TestCheckSchedule(t *testing.T) {
	for _, tc := range []struct {
		schedule, tz, field, err string
	}{
		{"0 3 * * 1", "America/Chicago", "", ""},
		{"@daily", "", "", ""},
		{"*/15 6-18 * * MON-FRI", "", "", ""},
		{"0 3 * * 1", "", "", ""},
		{"61 * * * *", "", "schedule", `schedule "61 * * * *" is not a valid cron expression: end of range (61) above maximum (59): 61`},
		{"0 25 * * *", "", "schedule", `schedule "0 25 * * *" is not a valid cron expression`},
		{"0 3 * * 8", "", "schedule", `is not a valid cron expression`},
		{"@fortnightly", "", "schedule", `is not a valid cron expression`},
		{"CRON_TZ=UTC 0 3 * * 1", "", "schedule", `schedule "CRON_TZ=UTC 0 3 * * 1" must not name a time zone (TZ= or CRON_TZ=); set spec.timeZone instead`},
		{"TZ=America/Chicago 0 3 * *", "", "schedule", "must not name a time zone"},
		{"0 3 * * 1", "America/Madison", "timeZone", `timeZone "America/Madison" is not a known IANA time zone, such as America/Chicago`},
		{"0 3 * * 1", "Local", "timeZone", `timeZone "Local" must name an IANA time zone, such as America/Chicago`},
		{"0 3 * * 1", "local", "timeZone", `must name an IANA time zone`},
		{"H 3 * * 1", "America/Chicago", "", ""},
		{"H(0-29) H(1-4) * * *", "", "", ""},
		{"H(0-70) 3 * * 1", "", "schedule", `schedule "H(0-70) 3 * * 1" has a bad H token: schedule "H(0-70) 3 * * 1": minute field "H(0-70)": range "0-70" is not a-b within 0-59`},
		{"H 3 * * 1", "Local", "timeZone", `must name an IANA time zone`},
	} {
		t.Run(tc.schedule+" "+tc.tz, func(t *testing.T) {
			s := v1alpha1.ScheduleSpec{Schedule: tc.schedule}
			if tc.tz != "" {
				s.TimeZone = ptr.To(tc.tz)
			}
			err := CheckSchedule(s)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("CheckSchedule = %v", err)
				}
				return
			}
			var se *ScheduleError
			if !errors.As(err, &se) || se.Field != tc.field || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("CheckSchedule = %v, want a ScheduleError on %s containing %q", err, tc.field, tc.err)
			}
		})
	}
}

// The H token becomes the same minute for the same resource, and different resources of a
// state spread over the hour.
func TestResolveScheduleHashesH(t *testing.T) {
	s := v1alpha1.ScheduleSpec{Schedule: "H 3 * * 1", TimeZone: ptr.To("America/Chicago")}
	a, err := ResolveSchedule(s, "wisconsin/wi-5508520")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ResolveSchedule(s, "wisconsin/wi-5508520")
	other, _ := ResolveSchedule(s, "wisconsin/wi-5509600")
	if a.Schedule != b.Schedule || strings.Contains(a.Schedule, "H") || !strings.HasSuffix(a.Schedule, " 3 * * 1") {
		t.Fatalf("resolved %q then %q", a.Schedule, b.Schedule)
	}
	if a.Schedule == other.Schedule {
		t.Errorf("two districts got the same minute %q (possible, but not for these two keys)", a.Schedule)
	}
	if *a.TimeZone != "America/Chicago" {
		t.Errorf("time zone lost: %v", a.TimeZone)
	}
	plain, _ := ResolveSchedule(v1alpha1.ScheduleSpec{Schedule: "0 3 * * 1"}, "wisconsin/wi-5508520")
	if plain.Schedule != "0 3 * * 1" {
		t.Errorf("a schedule without H changed: %q", plain.Schedule)
	}
}
