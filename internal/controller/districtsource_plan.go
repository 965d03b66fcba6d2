package controller

import (
	"context"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/render"
)

// workload checks a DistrictSource's schedule and renders its plan, resolving its Lakes,
// ConfigMaps and Secrets; the sources' ConfigMap keys are mounted into the Job. The
// SharedSources it reads with rerunDistricts enabled make its re-run (see reconcileRerun).
func (r *DistrictSourceReconciler) workload(ctx context.Context, ds *v1alpha1.DistrictSource) (*workload, error) {
	schedule, err := render.ResolveSchedule(ds.Spec.ScheduleSpec, ds.Namespace+"/"+ds.Name)
	if err != nil {
		return nil, r.renderError(err)
	}
	ds.Status.Schedule = schedule.Schedule
	if err := r.checkGuards(ctx, ds); err != nil {
		return nil, err
	}
	p, err := render.DistrictSource(ctx, ds, r.resolver(), render.MountConfigMaps)
	if err != nil {
		return nil, r.renderError(err)
	}
	p.Plan.Egress = r.Egress
	data, err := plan.Marshal(p.Plan)
	if err != nil {
		return nil, err
	}
	reads, names, err := r.rerunReads(ctx, ds.Namespace, &p.Plan)
	if err != nil {
		return nil, err
	}
	return &workload{
		rerun:      r.newRerun(ds, reads, names),
		owner:      ds,
		kind:       kindDistrictSource,
		command:    "ingest",
		schedule:   schedule,
		job:        ds.Spec.Job,
		plan:       data,
		secrets:    p.Secrets,
		configMaps: p.ConfigMaps,
	}, nil
}
