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
