package controller

import (
	"fmt"
	"strings"
	"time"
	// The manager image may have no zoneinfo; embed it so time zones always resolve.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"

	"github.com/districtlake/districtlake/api/v1alpha1"
)

// checkSchedule rejects what the CronJob API would refuse: a cron expression that does not
// parse, a time zone inside the schedule, or a time zone that does not exist.
func checkSchedule(s v1alpha1.ScheduleSpec) error {
	if strings.Contains(s.Schedule, "TZ=") {
		return fmt.Errorf("schedule %q must not name a time zone (TZ= or CRON_TZ=); set spec.timeZone instead", s.Schedule)
	}
	if _, err := cron.ParseStandard(s.Schedule); err != nil {
		return fmt.Errorf("schedule %q is not a valid cron expression: %w", s.Schedule, err)
	}
	if s.TimeZone == nil || *s.TimeZone == "" {
		return nil
	}
	tz := *s.TimeZone
	if strings.EqualFold(tz, "Local") {
		return fmt.Errorf("timeZone %q must name an IANA time zone, such as America/Chicago", tz)
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return fmt.Errorf("timeZone %q is not a known IANA time zone, such as America/Chicago", tz)
	}
	return nil
}
