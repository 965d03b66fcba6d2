package controller

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/validation"
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
