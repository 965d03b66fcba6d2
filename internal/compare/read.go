package compare

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"golang.org/x/sync/errgroup"

	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/lake"
)

// readBatchRows is the number of rows per record batch read from a district file.
const readBatchRows = 64 << 10

var districtSegment = regexp.MustCompile(`^district=([0-9]{7})$`)

// yearPrefix is the listing prefix of a district dataset for a state and year.
func yearPrefix(ds, state, year string) string {
	return path.Join(ds, "state="+state, "school_year="+year) + "/"
}

// districtFiles lists the district objects under prefix, by NCES ID. Objects that are
// not a partition's data.parquet are ignored; a district= folder with a malformed ID is an
// error.
func districtFiles(ctx context.Context, store lake.Store, prefix string) (map[string]string, error) {
	objs, err := store.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("listing %s in %s: %w", prefix, store.URL(), err)
	}
	out := map[string]string{}
	for _, o := range objs {
		rest := strings.TrimPrefix(o.Key, prefix)
		dir, name := path.Split(rest)
		if name != dataset.ObjectName || strings.Count(dir, "/") != 1 {
			continue
		}
		m := districtSegment.FindStringSubmatch(strings.TrimSuffix(dir, "/"))
		if m == nil {
			return nil, fmt.Errorf("object %s: the folder %q is not district=<7-digit NCES ID>", o.Key, strings.TrimSuffix(dir, "/"))
		}
		out[m[1]] = o.Key
	}
	return out, nil
}

// readYear reads the staffing and incidents files of one state and year, one district
// file at a time per reader (o.Concurrency readers), and returns the districts sorted by
// NCES ID.
func readYear(ctx context.Context, store lake.Store, state, year string, o *Options) ([]*districtInput, error) {
	staff, err := districtFiles(ctx, store, yearPrefix(dataset.Staffing, state, year))
	if err != nil {
		return nil, err
	}
	inc, err := districtFiles(ctx, store, yearPrefix(dataset.Incidents, state, year))
	if err != nil {
		return nil, err
	}
	ids := unionKeys(staff, inc)
	o.Log.Info("Listed district files", "state", state, "schoolYear", year,
		"staffing", len(staff), "incidents", len(inc), "districts", len(ids))
	inputs := make([]*districtInput, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Concurrency)
	var done atomic.Int64
	step := int64(max(1, len(ids)/10))
	for i, id := range ids {
		g.Go(func() error {
			in, err := readDistrict(gctx, store, id, staff[id], inc[id])
			if err != nil {
				return err
			}
			inputs[i] = in
			if n := done.Add(1); n%step == 0 || n == int64(len(ids)) {
				o.Log.Info("Read district files", "state", state, "schoolYear", year, "done", n, "of", len(ids))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return inputs, nil
}

func unionKeys(a, b map[string]string) []string {
	set := map[string]bool{}
	for k := range a {
		set[k] = true
	}
	for k := range b {
		set[k] = true
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// readDistrict reads one district's staffing and incidents files (either key may be "").
func readDistrict(ctx context.Context, store lake.Store, id, staffKey, incKey string) (*districtInput, error) {
	in := &districtInput{ncesID: id}
	if staffKey != "" {
		st, name, err := readStaffing(ctx, store, staffKey, id)
		if err != nil {
			return nil, err
		}
		in.staffing, in.name = st, name
	}
	if incKey != "" {
		inc, name, err := readIncidents(ctx, store, incKey, id)
		if err != nil {
			return nil, err
		}
		in.incidents = inc
		if in.name == "" {
			in.name = name
		}
	}
	return in, nil
}

// column is a column a reader needs and the Arrow type it must have.
type column struct {
	name string
	typ  arrow.Type
}

// parquetFile is one district file opened for reading selected columns.
type parquetFile struct {
	ds, key string
	obj     lake.Object
	fr      *pqarrow.FileReader
	cols    []int // leaf indexes, in the order asked
}

// openParquet opens key and checks that it has cols with the expected types.
func openParquet(ctx context.Context, store lake.Store, ds, key string, cols []column) (*parquetFile, error) {
	obj, err := store.Open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("opening %s file %s: %w", ds, key, err)
	}
	f := &parquetFile{ds: ds, key: key, obj: obj}
	if err := f.init(cols); err != nil {
		_ = obj.Close()
		return nil, err
	}
	return f, nil
}

func (f *parquetFile) init(cols []column) error {
	pf, err := file.NewParquetReader(f.obj)
	if err != nil {
		return f.errorf("is not a readable Parquet file: %w", err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: readBatchRows}, memory.DefaultAllocator)
	if err != nil {
		return f.errorf("has a schema that cannot be read: %w", err)
	}
	sc, err := fr.Schema()
	if err != nil {
		return f.errorf("has a schema that cannot be read: %w", err)
	}
	for _, c := range cols {
		leaf := pf.MetaData().Schema.ColumnIndexByName(c.name)
		fields := sc.FieldIndices(c.name)
		if leaf < 0 || len(fields) == 0 {
			return f.errorf("has no column %q (is it a %s file of schema version %s?)", c.name, f.ds, dataset.SchemaVersion)
		}
		if got := sc.Field(fields[0]).Type; got.ID() != c.typ && !(c.typ == arrow.STRING && got.ID() == arrow.LARGE_STRING) {
			return f.errorf("column %q is %s, want %s", c.name, got, c.typ)
		}
		f.cols = append(f.cols, leaf)
	}
	f.fr = fr
	return nil
}

func (f *parquetFile) errorf(format string, args ...any) error {
	return fmt.Errorf("%s file %s: "+format, append([]any{f.ds, f.key}, args...)...)
}

// rowErrorf names the row (1-based, in file order) and column of a bad value.
func (f *parquetFile) rowErrorf(row int64, col, format string, args ...any) error {
	return fmt.Errorf("%s file %s: row %d, column %s: "+format, append([]any{f.ds, f.key, row + 1, col}, args...)...)
}

// each calls fn for every record batch with the row number of its first row; the columns
// of rec are in the order openParquet was given.
func (f *parquetFile) each(ctx context.Context, fn func(rec arrow.RecordBatch, first int64) error) error {
	defer f.obj.Close()
	rr, err := f.fr.GetRecordReader(ctx, f.cols, nil)
	if err != nil {
		return f.errorf("cannot be read: %w", err)
	}
	defer rr.Release()
	var first int64
	for rr.Next() {
		rec := rr.RecordBatch()
		if err := fn(rec, first); err != nil {
			return err
		}
		first += rec.NumRows()
	}
	if err := rr.Err(); err != nil {
		return f.errorf("cannot be read after row %d: %w", first, err)
	}
	return nil
}

// stringColumn is a string or large-string array.
type stringColumn interface {
	IsNull(int) bool
	Value(int) string
}

// checkDistrict checks that every row belongs to the partition's district and returns the
// first district name.
func (f *parquetFile) checkDistrict(ids, names stringColumn, n int, first int64, want string, name *string) error {
	for i := range n {
		if id := ids.Value(i); id != want {
			return f.rowErrorf(first+int64(i), "nces_lea_id", "%q is not the partition's district %s", id, want)
		}
	}
	if *name == "" && n > 0 {
		*name = strings.Clone(names.Value(0))
	}
	return nil
}

var staffingColumns = func() []column {
	cols := []column{
		{"nces_lea_id", arrow.STRING}, {"district_name", arrow.STRING},
		{"nces_school_id", arrow.STRING}, {"enrollment", arrow.INT32},
	}
	for _, r := range dataset.Roles() {
		cols = append(cols, column{r.Plural() + "_fte", arrow.FLOAT64})
	}
	cols = append(cols, column{"sworn_officers_fte", arrow.FLOAT64}, column{"security_guards_fte", arrow.FLOAT64})
	for _, r := range dataset.RaceEthnicities {
		cols = append(cols, column{"enrollment_" + r.Name, arrow.INT32})
	}
	return append(cols, column{"enrollment_idea", arrow.INT32}, column{"enrollment_english_learner", arrow.INT32})
}()

// Positions in staffingColumns.
const (
	scID, scName, scSchool, scEnrollment, scFTE = 0, 1, 2, 3, 4
	scGroups                                    = scFTE + nFTE
)

// readStaffing sums one district's staffing file.
func readStaffing(ctx context.Context, store lake.Store, key, id string) (*staffing, string, error) {
	f, err := openParquet(ctx, store, dataset.Staffing, key, staffingColumns)
	if err != nil {
		return nil, "", err
	}
	st := &staffing{}
	var name string
	var row staffRow
	err = f.each(ctx, func(rec arrow.RecordBatch, first int64) error {
		n := int(rec.NumRows())
		if err := f.checkDistrict(rec.Column(scID).(stringColumn), rec.Column(scName).(stringColumn), n, first, id, &name); err != nil {
			return err
		}
		school := rec.Column(scSchool)
		enr := rec.Column(scEnrollment).(*array.Int32)
		var fte [nFTE]*array.Float64
		for j := range fte {
			fte[j] = rec.Column(scFTE + j).(*array.Float64)
		}
		var groups [nGroups]*array.Int32
		for j := range groups {
			groups[j] = rec.Column(scGroups + j).(*array.Int32)
		}
		for i := range n {
			r := first + int64(i)
			row.school = ""
			if !school.IsNull(i) {
				row.school = school.(stringColumn).Value(i)
			}
			var err error
			if row.enrollment, err = f.count(enr, i, r, staffingColumns[scEnrollment].name); err != nil {
				return err
			}
			for j, a := range fte {
				if row.fte[j], err = f.fte(a, i, r, staffingColumns[scFTE+j].name); err != nil {
					return err
				}
			}
			for j, a := range groups {
				if row.groups[j], err = f.count(a, i, r, staffingColumns[scGroups+j].name); err != nil {
					return err
				}
			}
			st.add(&row, school.IsNull(i))
		}
		return nil
	})
	return st, name, err
}

func (f *parquetFile) count(a *array.Int32, i int, row int64, col string) (optI, error) {
	if a.IsNull(i) {
		return optI{}, nil
	}
	v := a.Value(i)
	if v < 0 {
		return optI{}, f.rowErrorf(row, col, "%d is negative (reserve codes must be null)", v)
	}
	return optI{int64(v), true}, nil
}

func (f *parquetFile) fte(a *array.Float64, i int, row int64, col string) (optF, error) {
	if a.IsNull(i) {
		return optF{}, nil
	}
	v := a.Value(i)
	if v < 0 || v != v {
		return optF{}, f.rowErrorf(row, col, "%v is not a non-negative FTE", v)
	}
	return optF{v, true}, nil
}

var incidentsColumns = []column{
	{"nces_lea_id", arrow.STRING}, {"district_name", arrow.STRING},
	{"nces_school_id", arrow.STRING}, {"category", arrow.STRING},
	{"race_ethnicity", arrow.STRING}, {"disability", arrow.STRING},
	{"english_learner", arrow.BOOL}, {"count", arrow.INT32},
}

var raceIndex = func() map[string]int {
	m := map[string]int{}
	for i, r := range dataset.RaceEthnicities {
		m[r.Name] = i
	}
	return m
}()

// readIncidents sums one district's incidents file by school.
func readIncidents(ctx context.Context, store lake.Store, key, id string) (*incidents, string, error) {
	f, err := openParquet(ctx, store, dataset.Incidents, key, incidentsColumns)
	if err != nil {
		return nil, "", err
	}
	in := newIncidents()
	var name string
	err = f.each(ctx, func(rec arrow.RecordBatch, first int64) error {
		n := int(rec.NumRows())
		if err := f.checkDistrict(rec.Column(0).(stringColumn), rec.Column(1).(stringColumn), n, first, id, &name); err != nil {
			return err
		}
		school := rec.Column(2).(stringColumn)
		cat := rec.Column(3).(stringColumn)
		race := rec.Column(4).(stringColumn)
		dis := rec.Column(5).(stringColumn)
		el := rec.Column(6).(*array.Boolean)
		cnt := rec.Column(7).(*array.Int32)
		for i := range n {
			r := incidentRow{category: categoryIndex(cat.Value(i)), race: -1}
			if r.category < 0 {
				continue
			}
			if !school.IsNull(i) {
				r.school = school.Value(i)
			}
			if !race.IsNull(i) {
				ri, ok := raceIndex[race.Value(i)]
				if !ok {
					return f.rowErrorf(first+int64(i), "race_ethnicity", "%q is not a CRDC race/ethnicity", race.Value(i))
				}
				r.race = ri
			}
			r.idea = !dis.IsNull(i) && dis.Value(i) == dataset.DisabilityIDEA
			r.el = !el.IsNull(i) && el.Value(i)
			if r.count, err = f.count(cnt, i, first+int64(i), "count"); err != nil {
				return err
			}
			in.add(&r)
		}
		return nil
	})
	return in, name, err
}

func categoryIndex(c string) int {
	switch c {
	case dataset.CategoryArrest:
		return catArrest
	case dataset.CategoryLawEnforcementReferral:
		return catReferral
	}
	return -1
}

// districtContracts is one district's contracts file.
type districtContracts struct {
	name string
	rows []Contract
}

var contractsColumns = []column{
	{"nces_lea_id", arrow.STRING}, {"district_name", arrow.STRING},
	{"agency_name", arrow.STRING}, {"status", arrow.STRING},
	{"start_date", arrow.DATE32}, {"end_date", arrow.DATE32},
	{"annual_cost", arrow.DECIMAL128}, {"district_share", arrow.DECIMAL128},
	{"officers", arrow.INT32},
}

// readContracts reads every contracts file of a state (they are small: a few rows per
// district), by NCES ID.
func readContracts(ctx context.Context, store lake.Store, state string, o *Options) (map[string]*districtContracts, error) {
	files, err := districtFiles(ctx, store, path.Join(dataset.Contracts, "state="+state)+"/")
	if err != nil {
		return nil, err
	}
	out := make(map[string]*districtContracts, len(files))
	for id, key := range files {
		dc, err := readContractsFile(ctx, store, key, id)
		if err != nil {
			return nil, err
		}
		out[id] = dc
	}
	o.Log.Info("Read contracts", "state", state, "districts", len(files))
	return out, nil
}

func readContractsFile(ctx context.Context, store lake.Store, key, id string) (*districtContracts, error) {
	f, err := openParquet(ctx, store, dataset.Contracts, key, contractsColumns)
	if err != nil {
		return nil, err
	}
	dc := &districtContracts{}
	err = f.each(ctx, func(rec arrow.RecordBatch, first int64) error {
		n := int(rec.NumRows())
		if err := f.checkDistrict(rec.Column(0).(stringColumn), rec.Column(1).(stringColumn), n, first, id, &dc.name); err != nil {
			return err
		}
		for i := range n {
			c, err := f.contract(rec, i, first+int64(i))
			if err != nil {
				return err
			}
			dc.rows = append(dc.rows, c)
		}
		return nil
	})
	return dc, err
}

func (f *parquetFile) contract(rec arrow.RecordBatch, i int, row int64) (Contract, error) {
	c := Contract{AgencyName: strings.Clone(rec.Column(2).(stringColumn).Value(i))}
	if s := rec.Column(3).(stringColumn); !s.IsNull(i) {
		c.Status = ptr(strings.Clone(s.Value(i)))
	}
	for j, d := range []**int32{&c.StartDate, &c.EndDate} {
		if a := rec.Column(4 + j).(*array.Date32); !a.IsNull(i) {
			*d = ptr(int32(a.Value(i)))
		}
	}
	for j, m := range []**int64{&c.AnnualCost, &c.DistrictShare} {
		v, err := f.cents(rec.Column(6+j).(*array.Decimal128), i, row, contractsColumns[6+j].name)
		if err != nil {
			return c, err
		}
		*m = v
	}
	if a := rec.Column(8).(*array.Int32); !a.IsNull(i) {
		c.Officers = ptr(a.Value(i))
	}
	return c, nil
}

// cents reads a decimal(p, 2) dollar amount as cents.
func (f *parquetFile) cents(a *array.Decimal128, i int, row int64, col string) (*int64, error) {
	if a.IsNull(i) {
		return nil, nil
	}
	if s := a.DataType().(*arrow.Decimal128Type).Scale; s != 2 {
		return nil, f.rowErrorf(row, col, "decimal scale %d is not 2 (US dollars and cents)", s)
	}
	b := a.Value(i).BigInt()
	if !b.IsInt64() || b.Sign() < 0 {
		return nil, f.rowErrorf(row, col, "%s cents is not a valid amount", b)
	}
	return ptr(b.Int64()), nil
}
