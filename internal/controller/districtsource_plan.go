package controller

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/plan"
)

// workload checks a DistrictSource's schedule and renders its plan, resolving its Lakes.
func (r *DistrictSourceReconciler) workload(ctx context.Context, ds *v1alpha1.DistrictSource) (*workload, error) {
	if err := checkSchedule(ds.Spec.ScheduleSpec); err != nil {
		return nil, stalled(v1alpha1.ReasonInvalidSchedule, "%v", err)
	}
	lakes := lakeResolver(ctx, r.Client, ds.Namespace)
	p, err := plan.ForDistrictSource(ds, lakes.get)
	if err != nil {
		if lakes.missing != "" {
			return nil, stalled(v1alpha1.ReasonLakeNotFound, "Lake %q not found in namespace %s", lakes.missing, ds.Namespace)
		}
		if lakes.err != nil {
			return nil, fmt.Errorf("rendering plan: %w", err)
		}
		return nil, stalled(v1alpha1.ReasonInvalidSpec, "rendering plan: %v", err)
	}
	data, err := plan.Marshal(p.Plan)
	if err != nil {
		return nil, err
	}
	return &workload{
		owner:      ds,
		kind:       kindDistrictSource,
		command:    "ingest",
		schedule:   ds.Spec.ScheduleSpec,
		job:        ds.Spec.Job,
		plan:       data,
		secrets:    p.Secrets,
		configMaps: p.ConfigMaps,
	}, nil
}

// lakes resolves Lakes by name in one namespace and remembers why a lookup failed.
type lakes struct {
	ctx       context.Context
	reader    client.Reader
	namespace string
	missing   string
	err       error
}

func lakeResolver(ctx context.Context, reader client.Reader, namespace string) *lakes {
	return &lakes{ctx: ctx, reader: reader, namespace: namespace}
}

func (l *lakes) get(name string) (*v1alpha1.Lake, error) {
	lake := &v1alpha1.Lake{}
	if err := l.reader.Get(l.ctx, types.NamespacedName{Namespace: l.namespace, Name: name}, lake); err != nil {
		if apierrors.IsNotFound(err) {
			l.missing = name
		} else {
			l.err = err
		}
		return nil, err
	}
	return lake, nil
}
