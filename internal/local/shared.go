package local

import (
	"context"
	"errors"
	"fmt"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/land"
	"github.com/districtlake/districtlake/internal/plan"
	"github.com/districtlake/districtlake/internal/render"
	"github.com/districtlake/districtlake/internal/report"
	"github.com/districtlake/districtlake/internal/summary"
	"github.com/districtlake/districtlake/internal/term"
)

// SharedResult is what happened to one SharedSource in a local run.
type SharedResult struct {
	Namespace, Name string
	Summary         summary.Summary
	Err             error
}

// landings are what one run landed: the artifacts, by namespace/name, and the
// SharedSources whose landing failed, with why. A run keeps its own (not the Folder, which
// two runs may read at once).
type landings struct {
	artifacts map[string]*v1alpha1.SharedArtifact
	failed    map[string]error
}

// landAll lands, once each, the SharedSources the districts read, conditionally on the
// revision already in the lake (an unchanged file downloads nothing), and records their
// artifacts for the districts' plans. A SharedSource that fails leaves its districts
// failing, unrun, with its reason (see sharedFailure); the revision already in the lake
// and the districts' published data are untouched.
func landAll(ctx context.Context, f *Folder, dss []*v1alpha1.DistrictSource, l lake.Config, store lake.Store, o RunOptions) ([]SharedResult, *landings) {
	landed := &landings{artifacts: map[string]*v1alpha1.SharedArtifact{}, failed: map[string]error{}}
	var out []SharedResult
	seen := map[string]bool{}
	for _, ds := range dss {
		for _, s := range ds.Spec.Sources {
			if s.SharedSourceRef == nil {
				continue
			}
			key := ds.Namespace + "/" + s.SharedSourceRef.Name
			shs := f.SharedSource(ds.Namespace, s.SharedSourceRef.Name)
			if seen[key] || shs == nil {
				continue
			}
			seen[key] = true
			r := landOne(ctx, f, shs, l, store, o)
			if r.Err != nil {
				fmt.Fprintf(o.Out, "Shared source %s: FAILED: %s\n", term.Escape(key), term.Text(r.Err.Error()))
				landed.failed[key] = r.Err
			} else {
				fmt.Fprintf(o.Out, "Shared source %s: %s\n", term.Escape(key), term.Escape(r.Summary.Message))
				landed.artifacts[key] = render.SharedArtifact(r.Summary.Artifact)
			}
			out = append(out, r)
		}
	}
	return out, landed
}

func landOne(ctx context.Context, f *Folder, shs *v1alpha1.SharedSource, l lake.Config, store lake.Store, o RunOptions) SharedResult {
	r := SharedResult{Namespace: shs.Namespace, Name: shs.Name}
	lp, err := render.SharedSource(ctx, shs, folderResolver{f: f}, render.InlineConfigMaps)
	if err != nil {
		r.Err = err
		return r
	}
	p := lp.Plan
	p.Lake = l
	env, err := secretEnv(f, shs.Namespace, lp.Secrets, headerEnv(p.Source), o.Env)
	if err != nil {
		r.Err = err
		return r
	}
	prev, err := land.ReadManifest(ctx, store, shs.Namespace, shs.Name)
	switch {
	case err == nil:
		p.Previous = &plan.Previous{ETag: prev.ETag, LastModified: prev.LastModified, Revision: prev.Revision}
	case !errors.Is(err, lake.ErrNotExist):
		r.Err = fmt.Errorf("reading the last landed revision: %w", err)
		return r
	}
	key := term.Escape(shs.Namespace + "/" + shs.Name)
	r.Summary, r.Err = land.Run(ctx, &p, store, env, land.Options{OnProgress: func(pr land.Progress) {
		if pr.Phase == "split" {
			fmt.Fprintf(o.Out, "Landing shared source %s: read %s rows of %s districts (%s MB)\n", key,
				report.Thousands(pr.Rows), report.Thousands(int64(pr.Districts)), report.Thousands(pr.Bytes/1_000_000))
			return
		}
		fmt.Fprintf(o.Out, "Landing shared source %s: wrote %s of %s districts\n", key,
			report.Thousands(int64(pr.Published)), report.Thousands(int64(pr.Districts)))
	}})
	return r
}

// headerEnv names the environment variables of a source's http header values.
func headerEnv(s plan.Source) map[string]bool {
	out := map[string]bool{}
	if s.HTTP != nil {
		for _, h := range s.HTTP.Headers {
			out[h.ValueEnv] = true
		}
	}
	return out
}

// secretEnv is env with the needed Secret keys filled from the folder's Secrets or, when
// the folder lacks them, from env itself.
func secretEnv(f *Folder, namespace string, refs []render.SecretEnv, needed map[string]bool, env lake.Env) (lake.Env, error) {
	secrets := map[string]string{}
	for _, se := range refs {
		if !needed[se.Env] {
			continue
		}
		if sec := f.Secret(namespace, se.Secret); sec != nil {
			secrets[se.Env] = string(sec.Data[se.Key])
			continue
		}
		if v, ok := env(se.Env); ok {
			secrets[se.Env] = v
			continue
		}
		return nil, fmt.Errorf("Secret %s/%s (key %q) is not in %s and the environment variable %s is not set",
			namespace, se.Secret, se.Key, f.Dir, se.Env)
	}
	return func(name string) (string, bool) {
		if v, ok := secrets[name]; ok {
			return v, true
		}
		return env(name)
	}, nil
}

// sharedFailure is why a district is not run: a SharedSource it reads failed to land in
// this run. nil when none did.
func sharedFailure(landed *landings, ds *v1alpha1.DistrictSource) error {
	for _, s := range ds.Spec.Sources {
		if s.SharedSourceRef == nil {
			continue
		}
		key := ds.Namespace + "/" + s.SharedSourceRef.Name
		if err := landed.failed[key]; err != nil {
			return fmt.Errorf("not run, its data in the lake is unchanged: SharedSource %s, which source %q reads, failed to land: %w",
				key, s.Name, err)
		}
	}
	return nil
}
