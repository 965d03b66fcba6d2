package render

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Errors a Resolver returns.
var (
	// ErrNotFound says the object does not exist: the renderer turns it into a RefError.
	ErrNotFound = errors.New("not found")
	// ErrNotHeld says the resolver cannot tell: the object is not its to give (a Secret that
	// a local run reads from the environment instead, an object of the folder that is
	// itself invalid and reported on its own). The renderer checks nothing more about it.
	ErrNotHeld = errors.New("not held by the resolver")
)

// Kinds of object a reference names.
const (
	KindLake      = "Lake"
	KindConfigMap = "ConfigMap"
	KindSecret    = "Secret"
	// KindSharedSource is a SharedSource a source reads: missing, in another Lake, or
	// without a landed revision (NotReady).
	KindSharedSource = "SharedSource"
)

// RefError is a reference that does not resolve: an object that does not exist, or one
// that lacks the key a source reads. It never holds a value of the object.
type RefError struct {
	// Kind is KindLake, KindConfigMap or KindSecret.
	Kind      string
	Namespace string
	Name      string
	// Key is the key a source reads (ConfigMaps and Secrets).
	Key string
	// NoKey is true when the object exists but has no such key.
	NoKey bool
	// NotReady says why a SharedSource that exists cannot be read yet (no landed
	// revision, another Lake).
	NotReady string
	// Pending is true when the SharedSource exists and only has to land a revision: the
	// reference resolves on its own, without a change to the spec.
	Pending bool
	// Source is the name of the source that reads the object; empty for the workload's
	// own Lake.
	Source string
	// Env is the environment variable a Secret key fills.
	Env string
	// Field is where the reference is written in the workload, such as
	// spec.sources[1].configMapRef.key.
	Field *field.Path
}

// Value is the referenced value that does not resolve: the key when the object lacks it,
// else the object's name.
func (e *RefError) Value() string {
	if e.NoKey {
		return e.Key
	}
	return e.Name
}

func (e *RefError) Error() string {
	obj := e.Namespace + "/" + e.Name
	switch {
	case e.Kind == KindSharedSource && e.NotReady != "":
		return fmt.Sprintf("SharedSource %s, which source %q reads, %s", obj, e.Source, e.NotReady)
	case e.Kind == KindSharedSource:
		return fmt.Sprintf("SharedSource %s, which source %q reads, not found", obj, e.Source)
	case e.Kind == KindLake:
		return fmt.Sprintf("Lake %q not found in namespace %s", e.Name, e.Namespace)
	case e.Kind == KindConfigMap && e.NoKey:
		return fmt.Sprintf("ConfigMap %s has no key %q, which source %q reads", obj, e.Key, e.Source)
	case e.Kind == KindConfigMap:
		return fmt.Sprintf("ConfigMap %s, which source %q reads, not found", obj, e.Source)
	case e.NoKey:
		return fmt.Sprintf("%s %s has no key %q (it fills %s)", e.Kind, obj, e.Key, e.Env)
	default:
		return fmt.Sprintf("%s %s not found (it fills %s)", e.Kind, obj, e.Env)
	}
}

// SpecError is a spec the renderer cannot turn into a plan (one that the CRD's schema
// should have refused).
type SpecError struct {
	Field  *field.Path
	Source string
	Detail string
}

func (e *SpecError) Error() string {
	if e.Source == "" {
		return e.Detail
	}
	return fmt.Sprintf("source %q: %s", e.Source, e.Detail)
}
