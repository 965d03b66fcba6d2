package render

import (
	"fmt"
	"strings"
	"time"
	// Manager images and users' machines may have no zoneinfo; embed it so that time zones
	// always resolve.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/cronhash"
)

// ScheduleError is a schedule or time zone that the CronJob API would refuse.
type ScheduleError struct {
	// Field is "schedule" or "timeZone" (under spec).
	Field string
	Value string
	// Problem says what is wrong, as a predicate of the field: "is not a valid cron
	// expression: ...".
	Problem string
}

func (e *ScheduleError) Error() string {
	return fmt.Sprintf("%s %q %s", e.Field, e.Value, e.Problem)
}

// CheckSchedule rejects what the CronJob API would refuse, the first problem found: a
// time zone inside the schedule (TZ= or CRON_TZ=), a malformed H token, a cron expression
// that does not parse as the CronJob controller parses it (five fields or a descriptor such
// as @daily), a timeZone of Local, or a time zone that does not exist. The error is a
// *ScheduleError.
func CheckSchedule(s v1alpha1.ScheduleSpec) error {
	_, err := ResolveSchedule(s, "")
	return err
}

// ResolveSchedule checks s as CheckSchedule does and returns it with the hashed token H
// expanded from key, the resource's namespace/name (see cronhash: "H 3 * * 1" becomes a
// minute of 3 a.m. that stays the same for that resource).
func ResolveSchedule(s v1alpha1.ScheduleSpec, key string) (v1alpha1.ScheduleSpec, error) {
	if strings.Contains(s.Schedule, "TZ=") {
		return s, &ScheduleError{Field: "schedule", Value: s.Schedule,
			Problem: "must not name a time zone (TZ= or CRON_TZ=); set spec.timeZone instead"}
	}
	expanded, err := cronhash.Expand(s.Schedule, key)
	if err != nil {
		return s, &ScheduleError{Field: "schedule", Value: s.Schedule, Problem: "has a bad H token: " + err.Error()}
	}
	if _, err := cron.ParseStandard(expanded); err != nil {
		return s, &ScheduleError{Field: "schedule", Value: s.Schedule,
			Problem: "is not a valid cron expression: " + err.Error()}
	}
	if err := checkTimeZone(s); err != nil {
		return s, err
	}
	s.Schedule = expanded
	return s, nil
}

func checkTimeZone(s v1alpha1.ScheduleSpec) error {
	if s.TimeZone == nil || *s.TimeZone == "" {
		return nil
	}
	tz := *s.TimeZone
	if strings.EqualFold(tz, "Local") {
		return &ScheduleError{Field: "timeZone", Value: tz,
			Problem: "must name an IANA time zone, such as America/Chicago"}
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return &ScheduleError{Field: "timeZone", Value: tz,
			Problem: "is not a known IANA time zone, such as America/Chicago"}
	}
	return nil
}
