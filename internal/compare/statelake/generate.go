package statelake

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"

	"golang.org/x/sync/errgroup"

	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/lake"
)

// State says what Generate makes: a synthetic state of Districts districts holding
// Schools schools between them, with the unknowns real files have (reserve codes as
// nulls, suppressed incident cells, districts without counselors, contracts with and
// without a district share).
type State struct {
	State, SchoolYear string
	Districts         int
	Schools           int
	// Seed makes the state reproducible.
	Seed uint64
	// Concurrency is how many districts are written at once (GOMAXPROCS when 0).
	Concurrency int
}

// Generated counts what Generate wrote.
type Generated struct {
	Districts, Schools, StaffingRows, IncidentRows, ContractRows int64
	Objects                                                      int
}

// Generate writes the state's staffing, incidents and contracts files into store.
func Generate(ctx context.Context, store lake.Store, s State) (Generated, error) {
	var out Generated
	if s.Districts <= 0 || s.Schools < s.Districts {
		return out, fmt.Errorf("need at least one district and one school per district (got %d districts, %d schools)", s.Districts, s.Schools)
	}
	conc := s.Concurrency
	if conc <= 0 {
		conc = runtime.GOMAXPROCS(0)
	}
	type counts struct{ staff, inc, contracts int64 }
	per := make([]counts, s.Districts)
	objects := make([]int, s.Districts)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for i := range s.Districts {
		g.Go(func() error {
			rng := rand.New(rand.NewPCG(s.Seed, uint64(i)))
			schools := s.Schools / s.Districts
			if i < s.Schools%s.Districts {
				schools++
			}
			d := District{State: s.State, SchoolYear: s.SchoolYear,
				NCESID: fmt.Sprintf("%02d%05d", 56, i), Name: fmt.Sprintf("Synthetic District %04d", i)}
			staff, inc := districtRows(rng, d, schools)
			if _, err := Write(gctx, store, dataset.Staffing, d, staff); err != nil {
				return err
			}
			per[i] = counts{int64(len(staff)), int64(len(inc)), 0}
			objects[i] = 1
			if len(inc) > 0 {
				if _, err := Write(gctx, store, dataset.Incidents, d, inc); err != nil {
					return err
				}
				objects[i]++
			}
			if c := contractRows(rng); len(c) > 0 {
				if _, err := Write(gctx, store, dataset.Contracts, d, c); err != nil {
					return err
				}
				per[i].contracts = int64(len(c))
				objects[i]++
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return out, err
	}
	out.Districts, out.Schools = int64(s.Districts), int64(s.Schools)
	for i, c := range per {
		out.StaffingRows += c.staff
		out.IncidentRows += c.inc
		out.ContractRows += c.contracts
		out.Objects += objects[i]
	}
	return out, nil
}

// maybe returns v, or nil with probability p (a reserve code in the source).
func maybe[T any](rng *rand.Rand, p float64, v T) any {
	if rng.Float64() < p {
		return nil
	}
	return v
}

func fteValue(rng *rand.Rand, perStudents float64, enrollment int32) float64 {
	v := float64(enrollment) / perStudents * (0.3 + rng.Float64()*1.2)
	return float64(int(v*10)) / 10
}

// districtRows makes one district's staffing and incidents rows. About one district in
// twenty has no incidents file, and one in twenty no incident at all.
func districtRows(rng *rand.Rand, d District, schools int) (staff, inc []Row) {
	noCounselors := rng.Float64() < 0.08
	noIncidents := rng.Float64() < 0.05
	quiet := rng.Float64() < 0.05
	for j := range schools {
		id := fmt.Sprintf("%s%05d", d.NCESID, j)
		name := fmt.Sprintf("School %d of %s", j, d.NCESID)
		enr := int32(150 + rng.IntN(1800))
		r := Row{"nces_school_id": id, "school_name": name, "enrollment": maybe(rng, 0.03, enr)}
		// Race/ethnicity shares that sum to the enrollment.
		left := enr
		for k, re := range dataset.RaceEthnicities {
			n := left
			if k < len(dataset.RaceEthnicities)-1 {
				n = int32(float64(left) * rng.Float64() * 0.6)
			}
			left -= n
			r["enrollment_"+re.Name] = maybe(rng, 0.02, n)
		}
		r["enrollment_idea"] = maybe(rng, 0.05, int32(float64(enr)*0.13))
		r["enrollment_english_learner"] = maybe(rng, 0.10, int32(float64(enr)*0.08))
		counselors := fteValue(rng, 300, enr)
		if noCounselors {
			counselors = 0
		}
		r["counselors_fte"] = maybe(rng, 0.03, counselors)
		r["nurses_fte"] = maybe(rng, 0.08, fteValue(rng, 900, enr))
		r["psychologists_fte"] = maybe(rng, 0.08, fteValue(rng, 700, enr))
		r["social_workers_fte"] = maybe(rng, 0.08, fteValue(rng, 600, enr))
		r["sworn_officers_fte"] = maybe(rng, 0.05, float64(rng.IntN(3)))
		r["security_guards_fte"] = maybe(rng, 0.10, float64(rng.IntN(4)))
		staff = append(staff, r)
		if noIncidents {
			continue
		}
		for _, cat := range []string{dataset.CategoryArrest, dataset.CategoryLawEnforcementReferral} {
			inc = append(inc, IncidentRows(id, name, cat, func(Cell) any {
				if rng.Float64() < 0.02 {
					return nil
				}
				if quiet || rng.Float64() < 0.8 {
					return int32(0)
				}
				return int32(1 + rng.IntN(4))
			})...)
		}
	}
	return staff, inc
}

// contractRows makes a district's contracts: none for about half of them.
func contractRows(rng *rand.Rand) []Row {
	if rng.Float64() < 0.5 {
		return nil
	}
	annual := Cents(int64(50_000+rng.IntN(1_500_000)) * 100)
	active := Row{"agency_name": "City Police Department", "agency_type": "police", "status": "active",
		"start_date": Date("2022-07-01"), "end_date": Date("2026-06-30"), "annual_cost": annual,
		"officers": int32(1 + rng.IntN(25))}
	if rng.Float64() < 0.5 {
		active["district_share"] = annual / 2
		active["agency_share"] = annual - annual/2
	}
	rows := []Row{active}
	if rng.Float64() < 0.3 {
		rows = append(rows, Row{"agency_name": "County Sheriff", "status": "expired",
			"start_date": Date("2017-07-01"), "end_date": Date("2021-06-30"), "annual_cost": annual / 3})
	}
	// Some active contracts start after the 2023-24 school year (not in force during it),
	// and some districts list an undated agreement (in force every year).
	if rng.Float64() < 0.2 {
		active["start_date"] = Date("2024-07-01")
	}
	if rng.Float64() < 0.15 {
		rows = append(rows, Row{"agency_name": "Township Police", "status": "suspended",
			"annual_cost": annual / 4, "officers": int32(1)})
	}
	return rows
}
