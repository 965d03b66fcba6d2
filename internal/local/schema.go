package local

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"
)

// Schemas validates custom resources with their CRDs' OpenAPI schemas and CEL rules, in the
// order the API server applies them on create: unknown fields (rejected, as kubectl's
// strict field validation does), defaults, metadata, the OpenAPI schema, list types, then
// the x-kubernetes-validations rules.
type Schemas struct {
	kinds map[string]*kindSchema // by apiVersion + "/" + kind
}

type kindSchema struct {
	apiVersion string
	kind       string
	namespaced bool
	structural *structuralschema.Structural
	// openAPI checks the OpenAPI schema outside lists of objects, whose items are checked
	// by listSchemas.
	openAPI     apiservervalidation.SchemaValidator
	listSchemas []*listSchema
	// cel checks the CEL rules outside lists, whose items' rules are checked by lists.
	cel   *cel.Validator
	lists []*listRules
	// identities are the identity fields checked apart from the rest of an object, which
	// openAPI, listSchemas, cel and lists check once per distinct rest (rests).
	identities []*identity
	rests      restChecks
}

// NewSchemas reads every CRD (*.yaml) in fsys, such as crd.Bases(), and prepares the
// validators of each served version.
func NewSchemas(fsys fs.FS) (*Schemas, error) {
	files, err := fs.Glob(fsys, "*/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("listing CRDs: %w", err)
	}
	top, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("listing CRDs: %w", err)
	}
	files = append(files, top...)
	if len(files) == 0 {
		return nil, fmt.Errorf("no CRD files found")
	}
	s := &Schemas{kinds: map[string]*kindSchema{}}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("reading CRD %s: %w", f, err)
		}
		if err := s.add(b); err != nil {
			return nil, fmt.Errorf("CRD %s: %w", f, err)
		}
	}
	return s, nil
}

func (s *Schemas) add(b []byte) error {
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(b, &crd); err != nil {
		return fmt.Errorf("decoding: %w", err)
	}
	for _, v := range crd.Spec.Versions {
		if !v.Served || v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			continue
		}
		ks, err := newKindSchema(crd.Spec.Names.Kind, v.Schema.OpenAPIV3Schema)
		if err != nil {
			return fmt.Errorf("version %s: %w", v.Name, err)
		}
		ks.apiVersion = crd.Spec.Group + "/" + v.Name
		ks.kind = crd.Spec.Names.Kind
		ks.namespaced = crd.Spec.Scope == apiextensionsv1.NamespaceScoped
		s.kinds[ks.apiVersion+"/"+ks.kind] = ks
	}
	return nil
}

func newKindSchema(kind string, v1 *apiextensionsv1.JSONSchemaProps) (*kindSchema, error) {
	var internal apiextensionsinternal.JSONSchemaProps
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v1, &internal, nil); err != nil {
		return nil, fmt.Errorf("converting the schema: %w", err)
	}
	structural, err := structuralschema.NewStructural(&internal)
	if err != nil {
		return nil, fmt.Errorf("building the structural schema: %w", err)
	}
	_, openAPISchema, err := apiservervalidation.NewSchemaValidator(&internal)
	if err != nil {
		return nil, fmt.Errorf("building the OpenAPI validator: %w", err)
	}
	openAPIOutside, err := copySchema(openAPISchema)
	if err != nil {
		return nil, fmt.Errorf("building the OpenAPI validator: %w", err)
	}
	listSchemas := splitListSchemas(openAPIOutside, nil)
	celOutside := structural.DeepCopy()
	lists := splitListRules(celOutside, nil)
	identities := splitIdentities(kind, openAPIOutside, celOutside)
	return &kindSchema{
		structural:  structural,
		openAPI:     apiservervalidation.NewSchemaValidatorFromOpenAPI(openAPIOutside),
		listSchemas: listSchemas,
		cel:         cel.NewValidator(celOutside, true, celconfig.PerCallLimit),
		lists:       lists,
		identities:  identities,
		rests:       restChecks{seen: map[string]*restResult{}},
	}, nil
}

// Knows reports whether a CRD defines apiVersion and kind.
func (s *Schemas) Knows(apiVersion, kind string) bool {
	_, ok := s.kinds[apiVersion+"/"+kind]
	return ok
}

// Kinds lists the kinds the CRDs define, as apiVersion/kind, sorted.
func (s *Schemas) Kinds() []string {
	var out []string
	for k := range s.kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Check validates obj (decoded JSON: map[string]any, int64 and float64 numbers) in place:
// it applies the schema's defaults and returns every error, each with its field path.
// An object of a kind the CRDs do not define is an error.
func (s *Schemas) Check(ctx context.Context, obj map[string]any) field.ErrorList {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	ks, ok := s.kinds[apiVersion+"/"+kind]
	if !ok {
		return field.ErrorList{field.NotSupported(field.NewPath("apiVersion"), apiVersion, s.apiVersionsOf(kind))}
	}
	return ks.check(ctx, obj)
}

func (s *Schemas) apiVersionsOf(kind string) []string {
	var out []string
	for _, ks := range s.kinds {
		if ks.kind == kind {
			out = append(out, ks.apiVersion)
		}
	}
	sort.Strings(out)
	return out
}

func (ks *kindSchema) check(ctx context.Context, obj map[string]any) field.ErrorList {
	var errs field.ErrorList
	unknown := structuralpruning.PruneWithOptions(obj, ks.structural, true,
		structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	for _, p := range unknown {
		errs = append(errs, field.Forbidden(field.NewPath(p), "unknown field (not in the CRD's schema)"))
	}
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(obj, ks.structural)
	structuraldefaulting.Default(obj, ks.structural)
	errs = append(errs, validateMetadata(obj, ks.namespaced)...)
	// The rest of the object (its identity fields emptied) is checked once per distinct
	// rest; the identity fields every time.
	rest, values := splitObject(obj, ks.identities)
	res := ks.rests.result(itemKey(rest), func() *restResult {
		e := apiservervalidation.ValidateCustomResource(nil, rest, ks.openAPI)
		for _, l := range ks.listSchemas {
			e = append(e, l.check(rest)...)
		}
		return &restResult{schema: append(e, listtype.ValidateListSetsAndMaps(nil, ks.structural, rest)...)}
	})
	errs = append(errs, res.schema...)
	for i, id := range ks.identities {
		errs = append(errs, id.schemaErrors(values[i])...)
	}
	if blocking(errs) {
		errs = append(errs, &field.Error{Type: field.ErrorTypeInvalid, BadValue: field.OmitValueType{},
			Detail: "some validation rules (CEL) were not checked because the object was invalid; correct the errors above to check them"})
		return errs
	}
	const budget = int64(celconfig.RuntimeCELCostBudget)
	celErrs, cost := res.celOf(func() (field.ErrorList, int64) {
		e, left := ks.checkCEL(ctx, rest, budget)
		return e, budget - left
	})
	errs = append(errs, celErrs...)
	left := budget - cost
	for i, id := range ks.identities {
		var e field.ErrorList
		e, left = id.celErrors(ctx, values[i], left)
		errs = append(errs, e...)
	}
	return errs
}

// checkCEL runs the CEL rules within budget, as the API server does with one budget for
// the object: those outside lists, then those of each list's items.
func (ks *kindSchema) checkCEL(ctx context.Context, obj map[string]any, budget int64) (field.ErrorList, int64) {
	var errs field.ErrorList
	if ks.cel != nil {
		errs, budget = ks.cel.Validate(ctx, nil, ks.structural, obj, nil, budget)
	}
	for _, l := range ks.lists {
		var listErrs field.ErrorList
		listErrs, budget = l.check(ctx, obj, budget)
		errs = append(errs, listErrs...)
	}
	return errs, budget
}

// blocking mirrors the API server: CEL rules are not run over an object with errors of
// these types, because the rules may assume the schema holds.
func blocking(errs field.ErrorList) bool {
	for _, e := range errs {
		switch e.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong,
			field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return true
		}
	}
	return false
}

// decodeMetadata converts an object's metadata to ObjectMeta: directly (a YAML round trip
// per document was 2.6% of a national run's CPU), or, when a field has the wrong type,
// through JSON, whose error names the field.
func decodeMetadata(m map[string]any, meta *metav1.ObjectMeta) error {
	if runtime.DefaultUnstructuredConverter.FromUnstructured(m, meta) == nil {
		return nil
	}
	*meta = metav1.ObjectMeta{}
	b, err := yaml.Marshal(m)
	if err != nil {
		return err
	}
	return yaml.Unmarshal(b, meta)
}

// validateMetadata checks the name, namespace, labels and annotations as the API server
// does for a custom resource.
func validateMetadata(obj map[string]any, namespaced bool) field.ErrorList {
	path := field.NewPath("metadata")
	m, ok := obj["metadata"].(map[string]any)
	if !ok {
		return field.ErrorList{field.Required(path, "")}
	}
	var meta metav1.ObjectMeta
	if err := decodeMetadata(m, &meta); err != nil {
		return field.ErrorList{field.Invalid(path, nil, err.Error())}
	}
	if namespaced && meta.Namespace == "" {
		// kubectl apply fills in the namespace of the context; a local run uses "default".
		meta.Namespace = DefaultNamespace
	}
	errs := apimachineryvalidation.ValidateObjectMeta(&meta, namespaced, apimachineryvalidation.NameIsDNSSubdomain, path)
	var out field.ErrorList
	for _, e := range errs {
		if strings.HasPrefix(e.Field, "metadata.generateName") {
			continue
		}
		out = append(out, e)
	}
	return out
}
