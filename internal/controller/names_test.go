package controller

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	"github.com/districtlake/districtlake/api/v1alpha1"
)

func TestChildNames(t *testing.T) {
	g := NewWithT(t)
	g.Expect(cronJobName("wi-5508520")).To(Equal("wi-5508520"))
	g.Expect(planConfigMapName("wi-5508520")).To(Equal("wi-5508520-plan"))
	g.Expect(runNowJobName("wi-5508520", "1700000000")).To(Equal("wi-5508520-now-" + shortHash("1700000000")))
	g.Expect(runNowJobName("wi-5508520", "a")).NotTo(Equal(runNowJobName("wi-5508520", "b")))

	long := strings.Repeat("district-", 28) + "x" // 253 characters
	long2 := strings.Repeat("district-", 28) + "y"
	for _, owner := range []string{long, long2, strings.Repeat("a", 52), strings.Repeat("b", 53)} {
		for name, max := range map[string]int{
			cronJobName(owner):         52,
			runNowJobName(owner, "v"):  63,
			planConfigMapName(owner):   253,
			volumeName("src-" + owner): 63,
		} {
			g.Expect(len(name)).To(BeNumerically("<=", max), name)
			g.Expect(validation.IsDNS1123Subdomain(name)).To(BeEmpty(), name)
		}
	}
	g.Expect(cronJobName(long)).NotTo(Equal(cronJobName(long2)))
	g.Expect(runNowJobName(long, "v")).NotTo(Equal(runNowJobName(long2, "v")))
	g.Expect(runNowJobName(long, "v")).To(Equal(runNowJobName(long, "v")))
	g.Expect(cronJobName(strings.Repeat("a", 52))).To(Equal(strings.Repeat("a", 52)))
}

func TestCheckSchedule(t *testing.T) {
	for _, tc := range []struct {
		schedule, tz, err string
	}{
		{"0 3 * * 1", "America/Chicago", ""},
		{"@daily", "", ""},
		{"*/15 6-18 * * MON-FRI", "", ""},
		{"61 * * * *", "", `schedule "61 * * * *" is not a valid cron expression`},
		{"0 25 * * *", "", `schedule "0 25 * * *" is not a valid cron expression`},
		{"0 3 * * 8", "", `is not a valid cron expression`},
		{"@fortnightly", "", `is not a valid cron expression`},
		{"CRON_TZ=UTC 0 3 * * 1", "", "must not name a time zone"},
		{"0 3 * * 1", "America/Madison", `timeZone "America/Madison" is not a known IANA time zone`},
		{"0 3 * * 1", "Local", `timeZone "Local" must name an IANA time zone`},
	} {
		t.Run(tc.schedule+" "+tc.tz, func(t *testing.T) {
			g := NewWithT(t)
			s := v1alpha1.ScheduleSpec{Schedule: tc.schedule}
			if tc.tz != "" {
				s.TimeZone = ptr.To(tc.tz)
			}
			err := checkSchedule(s)
			if tc.err == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.err)))
		})
	}
}
