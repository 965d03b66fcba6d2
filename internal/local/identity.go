package local

import (
	"context"
	"reflect"
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

// identityFields are the objects (paths from the root) that tell one object of a kind
// from another in a folder of many: a national folder's 13,000 DistrictSources differ in
// their metadata and district and are alike in all else.
func identityFields(kind string) [][]string {
	if kind == "DistrictSource" {
		return [][]string{{"metadata"}, {"spec", "district"}}
	}
	return [][]string{{"metadata"}}
}

// identity is one identity field split from the rest of its kind's schema: checked on
// its own, every time, while the rest is checked once per distinct rest (restChecks).
// A split field's value is replaced in the rest by an empty object, whose schema there is
// only "an object", so that the rest's result does not depend on the field's content.
type identity struct {
	path []string
	// openAPI and cel check the field's own schema and rules (nil: it has none).
	openAPI apiservervalidation.SchemaCreateValidator
	cel     *cel.Validator
}

// restResult is what checking the rest of an object found: its schema errors, and its
// CEL errors and their cost once they have been checked (they are not when the schema
// errors block them).
type restResult struct {
	schema  field.ErrorList
	mu      sync.Mutex
	celDone bool
	cel     field.ErrorList
	celCost int64
}

// restChecks keeps each distinct rest's result.
type restChecks struct {
	mu   sync.Mutex
	seen map[string]*restResult
}

// splitIdentities removes, from the OpenAPI and structural schemas of a kind (copies the
// kind checks the rest with), the schemas of its identity fields that can be checked
// apart, and returns a checker for each. A field can be when it is an object reached
// through properties, holds no list (list types are checked over the whole object), and
// no rule above it may read it: the rules of its ancestors name other fields only
// (self.x), and its ancestors have no allOf, anyOf, oneOf or not.
func splitIdentities(kind string, openAPI *spec.Schema, structural *structuralschema.Structural) []*identity {
	var out []*identity
	for _, path := range identityFields(kind) {
		id := &identity{path: path}
		if splitAt(openAPI, structural, path, id) {
			out = append(out, id)
		}
	}
	return out
}

// splitAt splits the field at path (relative to o and s) into id. Both schemas hold their
// properties as values, so each level is copied out, edited and set back.
func splitAt(o *spec.Schema, s *structuralschema.Structural, path []string, id *identity) bool {
	name := path[0]
	if !onlyReadsOthers(s, name) || len(o.AllOf)+len(o.AnyOf)+len(o.OneOf) > 0 || o.Not != nil {
		return false
	}
	op, ok := o.Properties[name]
	sp, ok2 := s.Properties[name]
	if !ok || !ok2 {
		return false
	}
	if len(path) > 1 {
		if !splitAt(&op, &sp, path[1:], id) {
			return false
		}
	} else {
		if sp.Type != "object" || holdsList(&sp) {
			return false
		}
		if len(id.path) == 1 && id.path[0] == "metadata" {
			// The API server checks metadata apart (validateMetadata); a schema of its own
			// beyond "an object" stays with the rest.
			if !justAnObject(&op) || len(sp.Properties) > 0 || len(sp.XValidations) > 0 ||
				sp.ValueValidation != nil && !reflect.DeepEqual(*sp.ValueValidation, structuralschema.ValueValidation{}) {
				return false
			}
		} else {
			c, err := copySchema(&op)
			if err != nil {
				return false
			}
			id.openAPI = openAPIValidator{validate.NewSchemaValidator(c, nil, strings.Join(id.path, "."), strfmt.Default)}
			id.cel = cel.NewValidator(sp.DeepCopy(), sp.XEmbeddedResource, celconfig.PerCallLimit)
		}
		op = spec.Schema{SchemaProps: spec.SchemaProps{Type: spec.StringOrArray{"object"}}}
		stripRules(&sp)
	}
	o.Properties[name] = op
	s.Properties[name] = sp
	return true
}

// justAnObject says s only requires an object.
func justAnObject(s *spec.Schema) bool {
	c := *s
	c.Description, c.Title = "", ""
	return c.Type.Contains("object") && len(c.Type) == 1 && len(c.Properties) == 0 && len(c.Required) == 0 &&
		c.AdditionalProperties == nil && c.MaxProperties == nil && c.MinProperties == nil && len(c.Enum) == 0 &&
		len(c.AllOf)+len(c.AnyOf)+len(c.OneOf) == 0 && c.Not == nil && len(c.Extensions) == 0
}

// holdsList says s or a field below it is a list.
func holdsList(s *structuralschema.Structural) bool {
	return anyNode(s, func(n *structuralschema.Structural) bool { return n.Type == "array" || n.Items != nil })
}

// onlyReadsOthers says no CEL rule of s (its rule or message expression) may read field
// name: each names other fields only, as self.<field>; a self that is not followed by a
// dot (self == oldSelf, self[k], has(self)) could read any.
func onlyReadsOthers(s *structuralschema.Structural, name string) bool {
	for _, r := range s.XValidations {
		for _, text := range []string{r.Rule, r.MessageExpression} {
			if containsWord(text, name) {
				return false
			}
			for i := indexWord(text, "self", 0); i >= 0; i = indexWord(text, "self", i+4) {
				if i+4 >= len(text) || text[i+4] != '.' {
					return false
				}
			}
		}
	}
	return true
}

func containsWord(text, word string) bool { return indexWord(text, word, 0) >= 0 }

// indexWord is the index of the first whole-word word in text at or after from, or -1.
func indexWord(text, word string, from int) int {
	for from <= len(text)-len(word) {
		i := strings.Index(text[from:], word)
		if i < 0 {
			return -1
		}
		i += from
		before := i == 0 || !isIdentByte(text[i-1])
		after := i+len(word) == len(text) || !isIdentByte(text[i+len(word)])
		if before && after {
			return i
		}
		from = i + 1
	}
	return -1
}

func isIdentByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// splitObject is obj with each split identity field that holds an object replaced by an
// empty one (copying the maps on the way, so obj is unchanged), and those fields' values
// (nil where a field is missing or not an object, and so left in the rest).
func splitObject(obj map[string]any, ids []*identity) (map[string]any, []any) {
	rest := obj
	values := make([]any, len(ids))
	for i, id := range ids {
		rest, values[i] = replaceAt(rest, id.path)
	}
	return rest, values
}

// replaceAt replaces the object at path in m (when there is one) by an empty object, in a
// copy of the maps on the way; it returns the result and the object it replaced (nil
// when none).
func replaceAt(m map[string]any, path []string) (map[string]any, any) {
	v, ok := m[path[0]]
	if !ok {
		return m, nil
	}
	var old any
	if len(path) == 1 {
		if _, isMap := v.(map[string]any); !isMap {
			return m, nil
		}
		old, v = v, map[string]any{}
	} else {
		child, isMap := v.(map[string]any)
		if !isMap {
			return m, nil
		}
		if v, old = replaceAt(child, path[1:]); old == nil {
			return m, nil
		}
	}
	out := make(map[string]any, len(m))
	for k, x := range m {
		out[k] = x
	}
	out[path[0]] = v
	return out, old
}

// schemaErrors checks an identity field's value against its schema.
func (id *identity) schemaErrors(v any) field.ErrorList {
	if v == nil || id.openAPI == nil {
		return nil
	}
	return apiservervalidation.ValidateCustomResource(nil, v, id.openAPI)
}

// celErrors runs an identity field's rules within budget.
func (id *identity) celErrors(ctx context.Context, v any, budget int64) (field.ErrorList, int64) {
	if v == nil || id.cel == nil || budget < 0 {
		return nil, budget
	}
	return id.cel.Validate(ctx, field.NewPath(id.path[0], id.path[1:]...), nil, v, nil, budget)
}

// result is the rest's result: an equal rest's, or checked now.
func (r *restChecks) result(key string, check func() *restResult) *restResult {
	r.mu.Lock()
	res := r.seen[key]
	r.mu.Unlock()
	if res != nil {
		return res
	}
	res = check()
	r.mu.Lock()
	if len(r.seen) < maxListResults {
		r.seen[key] = res
	}
	r.mu.Unlock()
	return res
}

// celOf is the rest's CEL errors and cost, checked the first time they are asked for.
func (res *restResult) celOf(check func() (field.ErrorList, int64)) (field.ErrorList, int64) {
	res.mu.Lock()
	defer res.mu.Unlock()
	if !res.celDone {
		res.cel, res.celCost = check()
		res.celDone = true
	}
	return res.cel, res.celCost
}
