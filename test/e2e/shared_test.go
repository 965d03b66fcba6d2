//go:build e2e

package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/districtlake/districtlake/api/v1alpha1"
)

// The national file of the SharedSource this suite adds to the samples: a CRDC-like ZIP
// archive on the file server, whose "SCH/School Support.csv" member (deflated) holds the
// schools of three made-up Minnesota districts, each read by its own DistrictSource, and of
// two districts no DistrictSource reads. A stored filler member after it makes the archive
// larger than what a ranged read of the member needs.
const (
	sharedName    = "crdc-2021-22-school-support"
	sharedZIPPath = "/crdc/2021-22-crdc-data.zip"
	sharedMember  = "SCH/School Support.csv"
	sharedYear    = "2021-22"
	fillerBytes   = 256 << 10
)

// sharedDistrict is one LEA of the national file and how many schools it has there.
type sharedDistrict struct {
	ncesID, name string
	schools      int
	read         bool // a DistrictSource of this suite reads it
}

var sharedDistricts = []sharedDistrict{
	{"2700001", "E2E Shared District One (made up)", 3, true},
	{"2700002", "E2E Shared District Two (made up)", 2, true},
	{"2700003", "E2E Shared District Three (made up)", 4, true},
	{"5500001", "E2E Unread District (made up)", 2, false},
	{"1700001", "E2E Other Unread District (made up)", 1, false},
}

const supportHeader = "LEA_STATE,LEA_STATE_NAME,LEAID,LEA_NAME,SCHID,SCH_NAME,COMBOKEY,JJ,SCH_FTESECURITY_LEO,SCH_FTESECURITY_GUA," +
	"SCH_FTETEACH_TOT,SCH_FTETEACH_CERT,SCH_FTETEACH_NOTCERT,SCH_FTECOUNSELORS,SCH_FTESERVICES_NUR,SCH_FTESERVICES_PSY,SCH_FTESERVICES_SOC\n"

// sharedSupportCSV is the member: a national School Support file in the CRDC layout (made-up
// numbers), the schools of the districts interleaved as in a file sorted by state name.
func sharedSupportCSV() []byte {
	var b strings.Builder
	b.WriteString(supportHeader)
	states := map[string][2]string{"27": {"MN", "Minnesota"}, "55": {"WI", "Wisconsin"}, "17": {"IL", "Illinois"}}
	for school := 1; school <= 4; school++ {
		for _, d := range sharedDistricts {
			if school > d.schools {
				continue
			}
			st := states[d.ncesID[:2]]
			fmt.Fprintf(&b, "%s,%s,%s,%s,%05d,School %d,%s%05d,No,%d,1,%d.5,%d,0.5,2,0.4,0.6,1\n",
				st[0], st[1], d.ncesID, d.name, school, school, d.ncesID, school, school%2, 20+school, 19+school)
		}
	}
	return []byte(b.String())
}

// sharedZIP is the archive: the member deflated, then a stored filler member.
func sharedZIP(member []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: sharedMember, Method: zip.Deflate})
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(member); err != nil {
		return nil, err
	}
	w, err = zw.CreateHeader(&zip.FileHeader{Name: "SCH/Enrollment.csv", Method: zip.Store})
	if err != nil {
		return nil, err
	}
	line := []byte("MN,Minnesota,2799990,Filler,00000,Filler,279999000000,No,0,0,0,0,0,0,0,0,0,0,0,0\n")
	for n := 0; n < fillerBytes; n += len(line) {
		if _, err := w.Write(line); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// sharedDSName is the DistrictSource of this suite that reads a district's rows of the
// shared file.
func sharedDSName(d sharedDistrict) string { return "mn-" + d.ncesID }

// applyShared puts the archive on the file server and creates the SharedSource (read with
// the same bearer token as the HTTP source) and the three DistrictSources that read it.
func (s *suite) applyShared(ctx context.Context) error {
	archive, err := sharedZIP(sharedSupportCSV())
	if err != nil {
		return fmt.Errorf("making the shared ZIP archive: %w", err)
	}
	s.files.put(sharedZIPPath, archive)
	shs := &v1alpha1.SharedSource{
		ObjectMeta: metav1.ObjectMeta{Name: sharedName, Namespace: samplesNS},
		Spec: v1alpha1.SharedSourceSpec{
			HTTP: &v1alpha1.HTTPSource{URL: s.files.url + sharedZIPPath, Member: sharedMember, Headers: []v1alpha1.HTTPHeader{
				{Name: "Authorization", ValueFrom: v1alpha1.SecretKeyReference{Name: httpSecretName, Key: "authorization"}}}},
			Format:       v1alpha1.SharedFormatCRDC,
			SchoolYear:   sharedYear,
			LakeRef:      v1alpha1.LocalObjectReference{Name: lakeName},
			ScheduleSpec: v1alpha1.ScheduleSpec{Schedule: "0 2 * * 1"},
		},
	}
	if err := s.c.Create(ctx, shs); err != nil {
		return fmt.Errorf("creating SharedSource %s: %w", sharedName, err)
	}
	for _, d := range sharedDistricts {
		if !d.read {
			continue
		}
		ds := &v1alpha1.DistrictSource{
			ObjectMeta: metav1.ObjectMeta{Name: sharedDSName(d), Namespace: samplesNS, Labels: map[string]string{addedLabel: "true"}},
			Spec: v1alpha1.DistrictSourceSpec{
				District:     v1alpha1.District{NCESID: d.ncesID, Name: d.name, State: "MN"},
				LakeRef:      v1alpha1.LocalObjectReference{Name: lakeName},
				ScheduleSpec: v1alpha1.ScheduleSpec{Schedule: "0 3 * * 1"},
				Sources: []v1alpha1.Source{{Name: "crdc-support", Dataset: v1alpha1.DatasetStaffing, SchoolYear: sharedYear,
					SharedSourceRef: &v1alpha1.LocalObjectReference{Name: sharedName}}},
			},
		}
		if err := s.c.Create(ctx, ds); err != nil {
			return fmt.Errorf("creating DistrictSource %s: %w", ds.Name, err)
		}
	}
	return nil
}
