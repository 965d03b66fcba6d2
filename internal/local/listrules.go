package local

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
)

// maxListResults bounds the results a listRules, listSchema or restChecks keeps, and
// maxListValidators the indexes a listSchema keeps a validator for (a list longer than its
// schema allows is still checked, item by item, as the API server does).
const (
	maxListResults    = 4096
	maxListValidators = 64
)

// listRules checks the CEL rules of one list's items, and keeps each distinct item's
// result to reuse it for an equal item. A rule sees only its own node (self; oldSelf does
// not exist on create), so an item's result depends on nothing but the item: a national
// folder's 13,000 DistrictSources hold the same sources, and the API server's validator
// copies a schema's properties on every field a rule reads (upstream's
// Structural.Properties), which made these rules a quarter of loading such a folder.
type listRules struct {
	// path is the property names from the object's root to the list.
	path []string
	cel  *cel.Validator
	mu   sync.Mutex
	seen map[string]listResult
}

// listResult is what checking one item found, with the path it was checked at.
type listResult struct {
	errs field.ErrorList
	at   string
	cost int64
}

// splitListRules finds the lists (reached through properties from s) whose items hold
// CEL rules, removes those rules from s and returns a listRules for each, ordered by
// path. Lists inside lists, maps and allOf stay with s.
func splitListRules(s *structuralschema.Structural, path []string) []*listRules {
	var out []*listRules
	for _, k := range slices.Sorted(maps.Keys(s.Properties)) {
		p := s.Properties[k]
		at := append(slices.Clone(path), k)
		switch {
		case p.Items != nil && hasRules(p.Items) && !hasAllOf(p.Items):
			out = append(out, &listRules{
				path: at,
				cel:  cel.NewValidator(p.Items.DeepCopy(), p.Items.XEmbeddedResource, celconfig.PerCallLimit),
				seen: map[string]listResult{},
			})
			stripRules(p.Items)
		case p.Properties != nil:
			out = append(out, splitListRules(&p, at)...)
		}
		s.Properties[k] = p
	}
	return out
}

// anyNode says pred holds for s or a schema below it (items, properties, additional
// properties).
func anyNode(s *structuralschema.Structural, pred func(*structuralschema.Structural) bool) bool {
	if s == nil {
		return false
	}
	if pred(s) || anyNode(s.Items, pred) {
		return true
	}
	if s.AdditionalProperties != nil && anyNode(s.AdditionalProperties.Structural, pred) {
		return true
	}
	for _, p := range s.Properties {
		if anyNode(&p, pred) {
			return true
		}
	}
	return false
}

func hasRules(s *structuralschema.Structural) bool {
	return anyNode(s, func(n *structuralschema.Structural) bool { return len(n.XValidations) > 0 })
}

func hasAllOf(s *structuralschema.Structural) bool {
	return anyNode(s, func(n *structuralschema.Structural) bool {
		return n.ValueValidation != nil && len(n.ValueValidation.AllOf) > 0
	})
}

// stripRules removes every CEL rule from s and below.
func stripRules(s *structuralschema.Structural) {
	if s == nil {
		return
	}
	s.XValidations = nil
	stripRules(s.Items)
	if s.AdditionalProperties != nil {
		stripRules(s.AdditionalProperties.Structural)
	}
	for k, p := range s.Properties {
		stripRules(&p)
		s.Properties[k] = p
	}
}

// check runs the rules over every item of the list in obj, within budget, and returns
// the errors and the budget left. An item equal to one checked before (and that did not
// run out of budget then, nor would now) takes that item's errors, at its own index.
func (l *listRules) check(ctx context.Context, obj map[string]any, budget int64) (field.ErrorList, int64) {
	items, ok := listAt(obj, l.path)
	if !ok {
		return nil, budget
	}
	var errs field.ErrorList
	path := field.NewPath(l.path[0], l.path[1:]...)
	for i, item := range items {
		if budget < 0 {
			break
		}
		at := path.Index(i)
		key := itemKey(item)
		l.mu.Lock()
		r, hit := l.seen[key]
		l.mu.Unlock()
		if hit && r.cost <= budget {
			errs = append(errs, reroot(r.errs, r.at, at.String())...)
			budget -= r.cost
			continue
		}
		itemErrs, left := l.cel.Validate(ctx, at, nil, item, nil, budget)
		errs = append(errs, itemErrs...)
		if left >= 0 && under(itemErrs, at.String()) {
			l.mu.Lock()
			if len(l.seen) < maxListResults {
				l.seen[key] = listResult{errs: itemErrs, at: at.String(), cost: budget - left}
			}
			l.mu.Unlock()
		}
		budget = left
	}
	return errs, budget
}

// listAt is the list at path in obj, if there is one.
func listAt(obj map[string]any, path []string) ([]any, bool) {
	var v any = obj
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		v = m[k]
	}
	items, ok := v.([]any)
	return items, ok
}

// under says every error is at or below the field at.
func under(errs field.ErrorList, at string) bool {
	for _, e := range errs {
		if e.Field != at && !strings.HasPrefix(e.Field, at+".") && !strings.HasPrefix(e.Field, at+"[") {
			return false
		}
	}
	return true
}

// reroot copies errs found at field from to field to.
func reroot(errs field.ErrorList, from, to string) field.ErrorList {
	out := make(field.ErrorList, len(errs))
	for i, e := range errs {
		c := *e
		c.Field = to + strings.TrimPrefix(e.Field, from)
		out[i] = &c
	}
	return out
}

// itemKey is a canonical text of a decoded JSON value that tells its types apart (an
// int64 1 from a float64 1, which a rule may treat differently): equal keys, equal values.
func itemKey(v any) string {
	var b strings.Builder
	writeKey(&b, v)
	return b.String()
}

func writeKey(b *strings.Builder, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("n")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case string:
		b.WriteString(strconv.Quote(v))
	case int64:
		b.WriteString("i" + strconv.FormatInt(v, 10))
	case float64:
		b.WriteString("f" + strconv.FormatFloat(v, 'g', -1, 64))
	case []any:
		b.WriteString("[")
		for _, e := range v {
			writeKey(b, e)
			b.WriteString(",")
		}
		b.WriteString("]")
	case map[string]any:
		b.WriteString("{")
		for _, k := range slices.Sorted(maps.Keys(v)) {
			b.WriteString(strconv.Quote(k) + ":")
			writeKey(b, v[k])
			b.WriteString(",")
		}
		b.WriteString("}")
	default:
		fmt.Fprintf(b, "%T:%v", v, v)
	}
}

// listSchema checks the OpenAPI schema of one list's items (a list of objects), and keeps
// each distinct item's errors at each index to reuse them for an equal item at the same
// index: the OpenAPI validator names an error by its whole path, index included, in the
// message too. An item's errors depend on nothing but the item and its index.
type listSchema struct {
	path  []string
	items *spec.Schema
	mu    sync.Mutex
	// validators are by index, as the whole object's validator names them.
	validators map[int]apiservervalidation.SchemaCreateValidator
	seen       map[listItem]field.ErrorList
}

type listItem struct {
	index int
	key   string
}

// copySchema is a deep copy of an OpenAPI schema.
func copySchema(s *spec.Schema) (*spec.Schema, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	var out spec.Schema
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// splitListSchemas finds the lists of objects (reached through properties from s),
// removes their items' schemas from s and returns a listSchema for each, ordered by path.
func splitListSchemas(s *spec.Schema, path []string) []*listSchema {
	var out []*listSchema
	for _, k := range slices.Sorted(maps.Keys(s.Properties)) {
		p := s.Properties[k]
		at := append(slices.Clone(path), k)
		switch {
		case p.Items != nil && p.Items.Schema != nil && p.Items.Schema.Type.Contains("object"):
			out = append(out, &listSchema{path: at, items: p.Items.Schema,
				validators: map[int]apiservervalidation.SchemaCreateValidator{}, seen: map[listItem]field.ErrorList{}})
			p.Items = nil
		case p.Properties != nil:
			out = append(out, splitListSchemas(&p, at)...)
		}
		s.Properties[k] = p
	}
	return out
}

// check validates every item of the list in obj.
func (l *listSchema) check(obj map[string]any) field.ErrorList {
	items, ok := listAt(obj, l.path)
	if !ok {
		return nil
	}
	var errs field.ErrorList
	for i, item := range items {
		k := listItem{i, itemKey(item)}
		l.mu.Lock()
		itemErrs, hit := l.seen[k]
		v := l.validators[i]
		if v == nil {
			path := field.NewPath(l.path[0], l.path[1:]...).Index(i).String()
			v = openAPIValidator{validate.NewSchemaValidator(l.items, nil, path, strfmt.Default)}
			if i < maxListValidators {
				l.validators[i] = v
			}
		}
		l.mu.Unlock()
		if !hit {
			itemErrs = apiservervalidation.ValidateCustomResource(nil, item, v)
			l.mu.Lock()
			if len(l.seen) < maxListResults {
				l.seen[k] = itemErrs
			}
			l.mu.Unlock()
		}
		errs = append(errs, itemErrs...)
	}
	return errs
}

// openAPIValidator validates a new object with kube-openapi, as the API server does on
// create.
type openAPIValidator struct{ v *validate.SchemaValidator }

func (o openAPIValidator) Validate(x any, _ ...apiservervalidation.ValidationOption) *validate.Result {
	return o.v.Validate(x)
}
