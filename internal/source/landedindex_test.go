package source

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/districtlake/districtlake/internal/plan"
)

func TestIndexFindsEachDistrict(t *testing.T) {
	// A header that happens to hold a line like an entry must not be mistaken for one.
	header := []byte("LEAID,NOTE\n5500002 1 1\n")
	entries := []IndexEntry{{"0100005", 23, 40}, {"5500001", 63, 1}, {"5500002", 64, 0}, {"5599999", 64, 123456789012}}
	index := EncodeIndex(header, entries)
	for _, want := range entries {
		h, e, ok, err := findInIndex(index, want.LEAID)
		if err != nil || !ok || e != want || string(h) != string(header) {
			t.Errorf("%s: %+v %q %v %v; want %+v", want.LEAID, e, h, ok, err, want)
		}
	}
	for _, id := range []string{"0100000", "5500000", "5500003", "9999999", "550000"} {
		if _, e, ok, err := findInIndex(index, id); ok || err != nil {
			t.Errorf("%s: found %+v, %v; want not found", id, e, err)
		}
	}
	if _, _, ok, err := findInIndex(EncodeIndex(nil, nil), "5500001"); ok || err != nil {
		t.Errorf("an empty index: %v %v", ok, err)
	}
}

func TestDamagedIndexIsAnError(t *testing.T) {
	for name, index := range map[string]string{
		"not an index":         "LEAID,X\n",
		"no line end":          "districtlake-index 1 4",
		"header past the end":  "districtlake-index 1 400\nLEAID\n",
		"negative header":      "districtlake-index 1 -1\n",
		"a line of two fields": "districtlake-index 1 0\n5500001 12\n",
		"a bad offset":         "districtlake-index 1 0\n5500001 x 12\n",
		"a negative length":    "districtlake-index 1 0\n5500001 0 -12\n",
	} {
		if _, _, ok, err := findInIndex([]byte(index), "5500001"); err == nil {
			t.Errorf("%s: found %v, no error", name, ok)
		}
	}
}

// A district whose index or rows are missing is told so, naming the shared source and
// the revision.
func TestLandedStateObjectErrors(t *testing.T) {
	const prefix = "shared/namespace=wi/name=support/revision=r1"
	body := "LEAID,N\n5500001,1\n5500002,2\n"
	index := EncodeIndex([]byte("LEAID,N\n"), []IndexEntry{{"5500001", 8, 10}, {"5500002", 18, 10}, {"5500003", 28, 10}})
	l, store := fileLakeWith(t, prefix+"/fips=55.csv", body)
	if _, err := store.Put(context.Background(), prefix+"/fips=55.index", index); err != nil {
		t.Fatal(err)
	}
	open := func(key, index, district string) (string, error) {
		src := plan.Source{Name: "support", Format: "csv", Landed: &plan.Landed{Lake: l, Key: prefix + key, Index: prefix + index,
			District: district, Revision: "r1", SharedSource: "support"}}
		s, err := OpenWith(context.Background(), src, noEnv, Options{})
		if err != nil {
			return "", err
		}
		defer s.Close()
		b, err := io.ReadAll(s)
		return string(b), err
	}
	if b, err := open("/fips=55.csv", "/fips=55.index", "5500002"); err != nil || b != "LEAID,N\n5500002,2\n" {
		t.Fatalf("district 5500002 read %q, %v", b, err)
	}
	for _, tc := range []struct{ key, index, district, want string }{
		{"/fips=55.csv", "/fips=55.index", "5500004", "shared source support has no rows of district 5500004 in revision r1"},
		{"/fips=55.csv", "/fips=06.index", "5500001", "shared source support has no index " + prefix + "/fips=06.index in revision r1"},
		{"/fips=06.csv", "/fips=55.index", "5500001", "fips=06.csv"},
		{"/fips=55.csv", "/fips=55.index", "5500003", "it ended 10 bytes before the range did"},
	} {
		if _, err := open(tc.key, tc.index, tc.district); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s of %s: %v; want %q", tc.district, tc.key, err, tc.want)
		}
	}
}

// Districts of one run that share an IndexCache read their state's index once; each
// reads its own rows.
func TestIndexCacheReadsAnIndexOnce(t *testing.T) {
	const prefix = "shared/namespace=wi/name=support/revision=r1"
	l, store := fileLakeWith(t, prefix+"/fips=55.csv", "LEAID,N\n5500001,1\n5500002,2\n")
	index := EncodeIndex([]byte("LEAID,N\n"), []IndexEntry{{"5500001", 8, 10}, {"5500002", 18, 10}})
	if _, err := store.Put(context.Background(), prefix+"/fips=55.index", index); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cache     *IndexCache
		wantOpens int
	}{{nil, 4}, {NewIndexCache(), 1}} {
		counting := &countingStore{Store: store}
		for range 2 {
			for _, id := range []string{"5500001", "5500002"} {
				src := plan.Source{Name: "support", Format: "csv", Landed: &plan.Landed{Lake: l, Key: prefix + "/fips=55.csv",
					Index: prefix + "/fips=55.index", District: id, Revision: "r1", SharedSource: "support"}}
				s, err := OpenWith(context.Background(), src, noEnv, Options{Lake: &OpenLake{Config: l, Store: counting}, Indexes: tc.cache})
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(s)
				s.Close()
				if err != nil || string(b) != "LEAID,N\n"+id+","+id[6:]+"\n" {
					t.Fatalf("district %s read %q, %v", id, b, err)
				}
			}
		}
		if counting.opened != tc.wantOpens {
			t.Errorf("cache %v: the index was opened %d times for 4 reads; want %d", tc.cache != nil, counting.opened, tc.wantOpens)
		}
	}
}
