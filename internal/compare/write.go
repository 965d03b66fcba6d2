package compare

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/districtlake/districtlake/internal/dataset"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/report"
	"github.com/districtlake/districtlake/internal/summary"
)

// Dataset name of the report in the summary's objects.
const reportDataset = "report"

// publisher writes every object of a run to one lake batch and commits them only once all
// are written.
type publisher struct {
	batch *lake.Batch
	runID string
	now   time.Time
	plan  *plan.Compare

	// objects describe the batch's objects, in its order.
	objects []summary.Object
}

// writeYear writes one year's two Parquet files (not yet committed).
func (p *publisher) writeYear(ctx context.Context, yr *YearResult) error {
	yr.ComparisonKey = dataset.StateKey(dataset.Comparison, yr.State, yr.SchoolYear)
	rec, err := comparisonRecord(yr.Districts, p.runID, p.now)
	if err != nil {
		return fmt.Errorf("building %s: %w", yr.ComparisonKey, err)
	}
	if err := p.writeParquet(ctx, dataset.Comparison, yr.ComparisonKey, rec, yr); err != nil {
		return err
	}
	yr.GroupsKey = dataset.StateKey(dataset.ComparisonGroups, yr.State, yr.SchoolYear)
	rec, err = groupsRecord(yr.Groups, p.runID, p.now)
	if err != nil {
		return fmt.Errorf("building %s: %w", yr.GroupsKey, err)
	}
	return p.writeParquet(ctx, dataset.ComparisonGroups, yr.GroupsKey, rec, yr)
}

// addReport renders one year's report and adds it to the batch.
func (p *publisher) addReport(yr *YearResult) error {
	var buf bytes.Buffer
	if err := report.Render(&buf, ReportData(yr, p.plan, p.runID, p.now)); err != nil {
		return fmt.Errorf("rendering the report of %s %s: %w", yr.State, yr.SchoolYear, err)
	}
	yr.ReportKey = dataset.ReportKey(yr.State, yr.SchoolYear)
	if err := p.batch.Put(yr.ReportKey, buf.Bytes()); err != nil {
		return err
	}
	p.objects = append(p.objects, summary.Object{Dataset: reportDataset, Key: yr.ReportKey, Rows: int64(len(yr.Districts))})
	return nil
}

func (p *publisher) writeParquet(ctx context.Context, ds, key string, rec arrow.RecordBatch, yr *YearResult) error {
	defer rec.Release()
	w, err := p.batch.Create(ctx, key)
	if err != nil {
		return fmt.Errorf("creating %s: %w", key, err)
	}
	p.objects = append(p.objects, summary.Object{Dataset: ds, Key: key, Rows: rec.NumRows()})
	// A failed write is reported as the lake said it (see lake.WriteCause), not as the
	// Parquet writer's "failed to write magic number".
	fw, err := lake.NewParquetWriter(w, rec.Schema(), p.metadata(ds, yr))
	if err != nil {
		return fmt.Errorf("writing %s: %w", key, lake.WriteCause(w, err))
	}
	if err := fw.Write(rec); err != nil {
		return fmt.Errorf("writing %s: %w", key, lake.WriteCause(w, err))
	}
	if err := fw.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", key, lake.WriteCause(w, err))
	}
	return nil
}

// metadata is a comparison file's key-value metadata, like the district datasets'.
func (p *publisher) metadata(ds string, yr *YearResult) map[string]string {
	std, _ := json.Marshal(p.plan.Standards)
	costs, _ := json.Marshal(p.plan.Costs)
	sources, _ := json.Marshal([]string{
		yearPrefix(dataset.Staffing, yr.State, yr.SchoolYear),
		yearPrefix(dataset.Incidents, yr.State, yr.SchoolYear),
		dataset.Contracts + "/state=" + yr.State + "/",
	})
	return map[string]string{
		dataset.MetaSchemaVersion: dataset.SchemaVersion,
		dataset.MetaDataset:       ds,
		dataset.MetaState:         yr.State,
		dataset.MetaSchoolYear:    yr.SchoolYear,
		dataset.MetaSources:       string(sources),
		dataset.MetaRunID:         p.runID,
		dataset.MetaStandards:     string(std),
		dataset.MetaCosts:         string(costs),
	}
}

// commit publishes the batch: the Parquet files, then the reports. An error aborts what
// is left.
func (p *publisher) commit(ctx context.Context) ([]summary.Object, error) {
	infos, err := p.batch.Commit(ctx)
	if err != nil {
		return nil, err
	}
	for i := range p.objects {
		p.objects[i].SHA256 = infos[i].SHA256
	}
	return p.objects, nil
}

// rowBuilder appends one row's values field by field in schema order.
type rowBuilder struct {
	b   *array.RecordBuilder
	i   int
	err error
}

func (r *rowBuilder) next() array.Builder {
	f := r.b.Field(r.i)
	r.i++
	return f
}

func (r *rowBuilder) str(v string) { r.next().(*array.StringBuilder).Append(v) }

func (r *rowBuilder) strp(v *string) {
	b := r.next().(*array.StringBuilder)
	if v == nil {
		b.AppendNull()
		return
	}
	b.Append(*v)
}

func (r *rowBuilder) i32(v int32) { r.next().(*array.Int32Builder).Append(v) }

func (r *rowBuilder) i32p(v *int32) {
	b := r.next().(*array.Int32Builder)
	if v == nil {
		b.AppendNull()
		return
	}
	b.Append(*v)
}

// count appends a summed count, which must fit the int32 of the canonical counts.
func (r *rowBuilder) count(v *int64) {
	b := r.next().(*array.Int32Builder)
	switch {
	case v == nil:
		b.AppendNull()
	case *v > math.MaxInt32:
		if r.err == nil {
			r.err = fmt.Errorf("column %s: %d does not fit an int32", r.b.Schema().Field(r.i-1).Name, *v)
		}
		b.AppendNull()
	default:
		b.Append(int32(*v))
	}
}

func (r *rowBuilder) f64(v *float64) {
	b := r.next().(*array.Float64Builder)
	if v == nil {
		b.AppendNull()
		return
	}
	b.Append(*v)
}

func (r *rowBuilder) boolp(v *bool) {
	b := r.next().(*array.BooleanBuilder)
	if v == nil {
		b.AppendNull()
		return
	}
	b.Append(*v)
}

func (r *rowBuilder) money(cents *int64) {
	b := r.next().(*array.Decimal128Builder)
	if cents == nil {
		b.AppendNull()
		return
	}
	b.Append(decimal128.FromI64(*cents))
}

func (r *rowBuilder) ts(t time.Time) {
	r.next().(*array.TimestampBuilder).Append(arrow.Timestamp(t.UnixMicro()))
}

// end checks that the row filled every field.
func (r *rowBuilder) end() error {
	if r.err == nil && r.i != r.b.Schema().NumFields() {
		r.err = fmt.Errorf("internal error: a row filled %d of %d fields", r.i, r.b.Schema().NumFields())
	}
	r.i = 0
	return r.err
}

func build(schema *arrow.Schema, n int, row func(*rowBuilder, int)) (arrow.RecordBatch, error) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Reserve(n)
	rb := &rowBuilder{b: b}
	for i := range n {
		row(rb, i)
		if err := rb.end(); err != nil {
			return nil, err
		}
	}
	return b.NewRecordBatch(), nil
}

// comparisonRecord lays districts out as dataset.ComparisonSchema.
func comparisonRecord(ds []District, runID string, now time.Time) (arrow.RecordBatch, error) {
	return build(dataset.ComparisonSchema(), len(ds), func(r *rowBuilder, i int) {
		d := &ds[i]
		r.str(d.State)
		r.str(d.SchoolYear)
		r.str(d.NCESID)
		r.str(d.Name)
		r.count(d.Enrollment)
		r.i32(d.SchoolsReporting)
		r.i32(d.SchoolsReportingEnrollment)
		for _, role := range d.Roles.All() {
			r.f64(role.FTE)
			r.i32(role.SchoolsReporting)
			r.count(role.EnrollmentReporting)
			r.f64(role.StudentsPer)
			r.i32(role.Recommended)
			r.boolp(role.Meets)
			r.f64(role.GapFTE)
			r.i32(role.Rank)
		}
		r.f64(d.SupportGapFTETotal)
		r.i32(d.DistrictsInState)
		r.f64(d.SwornOfficersFTE)
		r.i32(d.SchoolsReportingSwornOfficers)
		r.f64(d.SecurityGuardsFTE)
		r.i32(d.SchoolsReportingSecurityGuards)
		r.count(d.SchoolsWithPoliceNoCounselor)
		r.count(d.Arrests)
		r.i32(d.SchoolsReportingArrests)
		r.count(d.EnrollmentReportingArrests)
		r.count(d.Referrals)
		r.i32(d.SchoolsReportingReferrals)
		r.count(d.EnrollmentReportingReferrals)
		r.f64(d.ArrestsPer1000)
		r.f64(d.ReferralsPer1000)
		r.boolp(d.ContractInForce)
		r.strp(d.ContractStatus)
		r.strp(d.ContractAgencyName)
		r.i32p(d.ContractOfficers)
		r.money(d.ContractAnnualCost)
		r.money(d.DistrictCost)
		r.f64(d.ContractCostPerStudent)
		for _, v := range d.FTEEquivalentOfContract.All() {
			r.f64(v)
		}
		r.str(runID)
		r.ts(now)
	})
}

// groupsRecord lays group rows out as dataset.ComparisonGroupsSchema.
func groupsRecord(gs []Group, runID string, now time.Time) (arrow.RecordBatch, error) {
	return build(dataset.ComparisonGroupsSchema(), len(gs), func(r *rowBuilder, i int) {
		g := &gs[i]
		r.str(g.State)
		r.str(g.SchoolYear)
		r.str(g.NCESID)
		r.str(g.DistrictName)
		r.str(g.StudentGroup)
		r.str(g.GroupType)
		r.count(g.GroupEnrollment)
		r.count(g.CoveredEnrollment)
		r.i32(g.SchoolsReportingEnrollment)
		r.count(g.GroupArrests)
		r.count(g.CoveredArrests)
		r.i32(g.SchoolsReportingArrests)
		r.count(g.GroupEnrollmentArrests)
		r.count(g.EnrollmentArrests)
		r.count(g.GroupReferrals)
		r.count(g.CoveredReferrals)
		r.i32(g.SchoolsReportingReferrals)
		r.count(g.GroupEnrollmentReferrals)
		r.count(g.EnrollmentReferrals)
		r.f64(g.EnrollmentShare)
		r.f64(g.ArrestShare)
		r.f64(g.ReferralShare)
		r.f64(g.ArrestRelativeRate)
		r.f64(g.ReferralRelativeRate)
		r.str(runID)
		r.ts(now)
	})
}
