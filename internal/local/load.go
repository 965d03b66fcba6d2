// Package local runs districtlake without a cluster: it loads a folder of the same YAML
// that `kubectl apply -f` takes (DistrictSources, StateComparisons, Lakes, ConfigMaps,
// Secrets), validates it with the CRDs' own schemas and CEL rules, ingests each district
// into a lake given on the command line, runs each state's comparison and prints a summary.
package local

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/config/crd"
)

// DefaultNamespace is the namespace of an object whose metadata names none, as kubectl
// apply with a default context would use.
const DefaultNamespace = "default"

// Origin is where an object was read: a file, its document (1-based, counting non-empty
// documents) and a line (of the document, or of the field an error is about).
type Origin struct {
	File string
	Doc  int
	Line int
}

func (o Origin) String() string {
	return fmt.Sprintf("%s:%d (document %d)", o.File, o.Line, o.Doc)
}

// Item is one object of the folder and where it came from.
type Item[T any] struct {
	Origin Origin
	Object T
}

// Found is one document of the folder, in file order.
type Found struct {
	Origin     Origin
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	// Ignored says why the document is skipped (a kind that a local run does not use), or
	// is empty.
	Ignored string
	// Errors is how many problems were found in the object.
	Errors int
}

// Ref is "Kind namespace/name".
func (f Found) Ref() string {
	if f.Namespace == "" {
		return f.Kind + " " + f.Name
	}
	return f.Kind + " " + f.Namespace + "/" + f.Name
}

// Problem is one error found in the folder.
type Problem struct {
	Origin Origin
	// Object is "Kind namespace/name", or empty when the document could not be decoded.
	Object string
	Err    string
}

func (p Problem) Error() string {
	if p.Object == "" {
		return p.Origin.String() + ": " + p.Err
	}
	return p.Origin.String() + ": " + p.Object + ": " + p.Err
}

// Problems is every error found in a folder; as an error, one per line.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Folder is what a folder of YAML holds, validated and defaulted.
type Folder struct {
	Dir              string
	Found            []Found
	DistrictSources  []Item[*v1alpha1.DistrictSource]
	StateComparisons []Item[*v1alpha1.StateComparison]
	SharedSources    []Item[*v1alpha1.SharedSource]
	Lakes            []Item[*v1alpha1.Lake]
	ConfigMaps       []Item[*corev1.ConfigMap]
	Secrets          []Item[*corev1.Secret]
	Problems         Problems

	// texts are the documents read, by origin file and document, to place errors on lines.
	texts map[docKey]docText
}

type docKey struct {
	file string
	doc  int
}

// docText is a document's text and the number of the file's lines before it.
type docText struct {
	text   []byte
	before int
}

// problem records an error about a field of an object, on the line the field is written.
func (f *Folder) problem(o Origin, object string, e *field.Error) {
	if t, ok := f.texts[docKey{o.File, o.Doc}]; ok {
		o.Line = lineOf(t.text, e.Field, o.Line-t.before) + t.before
	}
	f.Problems = append(f.Problems, Problem{Origin: o, Object: object, Err: fieldError(e)})
}

// Err is the folder's problems as one error, or nil.
func (f *Folder) Err() error {
	if len(f.Problems) == 0 {
		return nil
	}
	return f.Problems
}

// SharedSource finds a SharedSource by namespace and name.
func (f *Folder) SharedSource(namespace, name string) *v1alpha1.SharedSource {
	for _, it := range f.SharedSources {
		if it.Object.Namespace == namespace && it.Object.Name == name {
			return it.Object
		}
	}
	return nil
}

// Lake finds a Lake by namespace and name.
func (f *Folder) Lake(namespace, name string) *v1alpha1.Lake {
	for _, it := range f.Lakes {
		if it.Object.Namespace == namespace && it.Object.Name == name {
			return it.Object
		}
	}
	return nil
}

// ConfigMap finds a ConfigMap by namespace and name.
func (f *Folder) ConfigMap(namespace, name string) *corev1.ConfigMap {
	for _, it := range f.ConfigMaps {
		if it.Object.Namespace == namespace && it.Object.Name == name {
			return it.Object
		}
	}
	return nil
}

// Secret finds a Secret by namespace and name.
func (f *Folder) Secret(namespace, name string) *corev1.Secret {
	for _, it := range f.Secrets {
		if it.Object.Namespace == namespace && it.Object.Name == name {
			return it.Object
		}
	}
	return nil
}

// Loader reads folders of YAML.
type Loader struct {
	schemas *Schemas
}

// NewLoader returns a Loader that validates custom resources with schemas (see NewSchemas).
func NewLoader(schemas *Schemas) *Loader {
	return &Loader{schemas: schemas}
}

// Load reads every *.yaml and *.yml file under dir (recursively, several documents per
// file; folders whose names start with a dot are skipped), decodes DistrictSources,
// StateComparisons, Lakes, ConfigMaps and Secrets, validates them and checks that their
// references resolve. Problems with the objects are in Folder.Problems; the error is for
// a folder that cannot be read.
func (l *Loader) Load(ctx context.Context, dir string) (*Folder, error) {
	files, err := yamlFiles(dir)
	if err != nil {
		return nil, err
	}
	f := &Folder{Dir: dir, texts: map[docKey]docText{}}
	var docs []Origin
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", file, err)
		}
		for _, doc := range splitDocuments(b) {
			f.texts[docKey{file, doc.index}] = docText{doc.text, doc.before}
			docs = append(docs, Origin{File: file, Doc: doc.index, Line: doc.line})
		}
	}
	for _, part := range l.decodeAll(ctx, f, docs) {
		f.merge(part)
	}
	checkDuplicates(f)
	checkReferences(ctx, f)
	checkGuards(f)
	sortProblems(f.Problems)
	countErrors(f)
	return f, nil
}

// decodeAll decodes the documents at docs on every core (a national folder holds 13,000
// objects, each checked against its CRD's schema and CEL rules), each into its own Folder,
// returned in the order of docs.
func (l *Loader) decodeAll(ctx context.Context, f *Folder, docs []Origin) []*Folder {
	parts := make([]*Folder, len(docs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(docs)) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(docs); i = int(next.Add(1)) - 1 {
				o := docs[i]
				key := docKey{o.File, o.Doc}
				part := &Folder{texts: map[docKey]docText{key: f.texts[key]}}
				l.decode(ctx, part, o, f.texts[key])
				parts[i] = part
			}
		})
	}
	wg.Wait()
	return parts
}

// merge appends what p decoded to f.
func (f *Folder) merge(p *Folder) {
	f.Found = append(f.Found, p.Found...)
	f.DistrictSources = append(f.DistrictSources, p.DistrictSources...)
	f.StateComparisons = append(f.StateComparisons, p.StateComparisons...)
	f.SharedSources = append(f.SharedSources, p.SharedSources...)
	f.Lakes = append(f.Lakes, p.Lakes...)
	f.ConfigMaps = append(f.ConfigMaps, p.ConfigMaps...)
	f.Secrets = append(f.Secrets, p.Secrets...)
	f.Problems = append(f.Problems, p.Problems...)
}

func yamlFiles(dir string) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("reading folder: %w", err)
	}
	if !st.IsDir() {
		return []string{dir}, nil
	}
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml":
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading folder %s: %w", dir, err)
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("folder %s holds no .yaml or .yml file", dir)
	}
	return files, nil
}

type document struct {
	index int
	line  int
	// before is the number of the file's lines before text.
	before int
	text   []byte
}

// splitDocuments cuts a YAML stream at "---" lines. Documents with nothing but comments and
// blank lines are dropped; line is the first line with content.
func splitDocuments(b []byte) []document {
	var docs []document
	var cur bytes.Buffer
	first, before := 0, 0
	flush := func() {
		if first > 0 {
			docs = append(docs, document{index: len(docs) + 1, line: first, before: before, text: append([]byte(nil), cur.Bytes()...)})
		}
		cur.Reset()
		first = 0
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	for i, ln := range lines {
		trimmed := strings.TrimRight(string(ln), "\r\n")
		if trimmed == "---" || strings.HasPrefix(trimmed, "--- ") || strings.HasPrefix(trimmed, "---\t") {
			flush()
			continue
		}
		if first == 0 {
			t := strings.TrimSpace(trimmed)
			if t != "" && !strings.HasPrefix(t, "#") {
				first = i + 1
			}
		}
		if cur.Len() == 0 {
			before = i
		}
		cur.Write(ln)
	}
	flush()
	return docs
}

func (l *Loader) decode(ctx context.Context, f *Folder, o Origin, doc docText) {
	problem := func(found *Found, err string) {
		obj := ""
		if found != nil && found.Kind != "" {
			obj = found.Ref()
		}
		f.Problems = append(f.Problems, Problem{Origin: o, Object: obj, Err: err})
	}
	v, err := decodeYAML(doc.text)
	if err != nil {
		// Convert again the slow way after the file's lines before the document, so that
		// the error is sigs.k8s.io/yaml's and its line numbers are the file's.
		if _, perr := yaml.YAMLToJSONStrict(append(bytes.Repeat([]byte("\n"), doc.before), doc.text...)); perr != nil {
			err = perr
		}
		problem(nil, "not valid YAML: "+err.Error())
		return
	}
	obj, _ := v.(map[string]any)
	if obj == nil {
		problem(nil, "not a Kubernetes object (the document is not a mapping)")
		return
	}
	found := Found{Origin: o}
	found.APIVersion, _ = obj["apiVersion"].(string)
	found.Kind, _ = obj["kind"].(string)
	if m, ok := obj["metadata"].(map[string]any); ok {
		found.Name, _ = m["name"].(string)
		found.Namespace, _ = m["namespace"].(string)
	}
	if found.Kind == "" || found.APIVersion == "" {
		f.Found = append(f.Found, found)
		problem(nil, "not a Kubernetes object (apiVersion and kind are required)")
		return
	}
	switch {
	case strings.HasPrefix(found.APIVersion, v1alpha1.GroupVersion.Group+"/"):
		if found.Namespace == "" {
			found.Namespace = DefaultNamespace
		}
		f.Found = append(f.Found, found)
		l.decodeCustom(ctx, f, found, obj)
	case found.APIVersion == "v1" && (found.Kind == "ConfigMap" || found.Kind == "Secret"):
		if found.Namespace == "" {
			found.Namespace = DefaultNamespace
		}
		f.Found = append(f.Found, found)
		decodeCore(f, found, obj)
	default:
		found.Ignored = "not used by a local run"
		f.Found = append(f.Found, found)
	}
}

func (l *Loader) decodeCustom(ctx context.Context, f *Folder, found Found, obj map[string]any) {
	errs := l.schemas.Check(ctx, obj)
	if len(errs) > 0 {
		for _, e := range errs {
			f.problem(found.Origin, found.Ref(), e)
		}
		return
	}
	setNamespace(obj, found.Namespace)
	js, err := utiljson.Marshal(obj)
	if err != nil {
		f.Problems = append(f.Problems, Problem{Origin: found.Origin, Object: found.Ref(), Err: err.Error()})
		return
	}
	var decodeErr error
	switch found.Kind {
	case "DistrictSource":
		var ds v1alpha1.DistrictSource
		decodeErr = utiljson.Unmarshal(js, &ds)
		f.DistrictSources = append(f.DistrictSources, Item[*v1alpha1.DistrictSource]{found.Origin, &ds})
	case "StateComparison":
		var sc v1alpha1.StateComparison
		decodeErr = utiljson.Unmarshal(js, &sc)
		f.StateComparisons = append(f.StateComparisons, Item[*v1alpha1.StateComparison]{found.Origin, &sc})
	case "SharedSource":
		var shs v1alpha1.SharedSource
		decodeErr = utiljson.Unmarshal(js, &shs)
		f.SharedSources = append(f.SharedSources, Item[*v1alpha1.SharedSource]{found.Origin, &shs})
	case "Lake":
		var lk v1alpha1.Lake
		decodeErr = utiljson.Unmarshal(js, &lk)
		f.Lakes = append(f.Lakes, Item[*v1alpha1.Lake]{found.Origin, &lk})
	default:
		decodeErr = fmt.Errorf("kind %s is not used by a local run", found.Kind)
	}
	if decodeErr != nil {
		f.Problems = append(f.Problems, Problem{Origin: found.Origin, Object: found.Ref(), Err: decodeErr.Error()})
	}
}

func setNamespace(obj map[string]any, ns string) {
	if m, ok := obj["metadata"].(map[string]any); ok {
		m["namespace"] = ns
	}
}

func decodeCore(f *Folder, found Found, obj map[string]any) {
	add := func(e *field.Error) {
		f.Problems = append(f.Problems, Problem{Origin: found.Origin, Object: found.Ref(), Err: fieldError(e)})
	}
	js, err := json.Marshal(obj)
	if err != nil {
		add(field.Invalid(nil, nil, err.Error()))
		return
	}
	switch found.Kind {
	case "ConfigMap":
		var cm corev1.ConfigMap
		if err := yaml.UnmarshalStrict(js, &cm); err != nil {
			add(field.Invalid(nil, nil, err.Error()))
			return
		}
		cm.Namespace = found.Namespace
		errs := apimachineryvalidation.ValidateObjectMeta(&cm.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
		for _, e := range errs {
			add(e)
		}
		if len(errs) == 0 {
			f.ConfigMaps = append(f.ConfigMaps, Item[*corev1.ConfigMap]{found.Origin, &cm})
		}
	case "Secret":
		var s corev1.Secret
		if err := yaml.UnmarshalStrict(js, &s); err != nil {
			add(field.Invalid(nil, nil, err.Error()))
			return
		}
		s.Namespace = found.Namespace
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		for k, v := range s.StringData {
			s.Data[k] = []byte(v)
		}
		s.StringData = nil
		errs := apimachineryvalidation.ValidateObjectMeta(&s.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
		for _, e := range errs {
			add(e)
		}
		if len(errs) == 0 {
			f.Secrets = append(f.Secrets, Item[*corev1.Secret]{found.Origin, &s})
		}
	}
}

func checkDuplicates(f *Folder) {
	seen := map[string]Origin{}
	for _, it := range f.Found {
		if it.Ignored != "" || it.Name == "" {
			continue
		}
		key := it.APIVersion + " " + it.Ref()
		if prev, ok := seen[key]; ok {
			f.Problems = append(f.Problems, Problem{Origin: it.Origin, Object: it.Ref(),
				Err: fmt.Sprintf("defined twice (also at %s)", prev)})
			continue
		}
		seen[key] = it.Origin
	}
}

func countErrors(f *Folder) {
	for i := range f.Found {
		for _, p := range f.Problems {
			if p.Origin.File == f.Found[i].Origin.File && p.Origin.Doc == f.Found[i].Origin.Doc {
				f.Found[i].Errors++
			}
		}
	}
}

// fieldError renders a field error, without a path when it is about the whole object.
func fieldError(e *field.Error) string {
	if e.Field == "" || e.Field == "<nil>" {
		return e.ErrorBody()
	}
	return e.Error()
}

// Load reads a folder with the CRDs built into the binary (config/crd/bases).
func Load(ctx context.Context, dir string) (*Folder, error) {
	schemas, err := NewSchemas(crd.Bases())
	if err != nil {
		return nil, fmt.Errorf("reading the built-in CRDs: %w", err)
	}
	return NewLoader(schemas).Load(ctx, dir)
}

// sortProblems orders problems by file, document, line and message.
func sortProblems(ps Problems) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i].Origin, ps[j].Origin
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Doc != b.Doc {
			return a.Doc < b.Doc
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return ps[i].Err < ps[j].Err
	})
}
