package dataset

import "iter"

// Role is one of the four support roles compared against a recommended number of students
// per FTE: counselor, nurse, psychologist, social worker, in that order everywhere (the
// comparison's columns, the report, the plan).
type Role int

// The support roles, in column order.
const (
	Counselor Role = iota
	Nurse
	Psychologist
	SocialWorker
)

// NumRoles is how many support roles there are.
const NumRoles = 4

// Roles lists the support roles in column order.
func Roles() [NumRoles]Role {
	return [NumRoles]Role{Counselor, Nurse, Psychologist, SocialWorker}
}

// Name is the singular used in column names (students_per_counselor, social_worker_gap_fte).
func (r Role) Name() string {
	switch r {
	case Counselor:
		return "counselor"
	case Nurse:
		return "nurse"
	case Psychologist:
		return "psychologist"
	case SocialWorker:
		return "social_worker"
	}
	return "unknown"
}

// Plural is the stem of the role's staffing column (counselors_fte, social_workers_fte).
func (r Role) Plural() string { return r.Name() + "s" }

// Label is the role's name in prose ("social worker").
func (r Role) Label() string {
	if r == SocialWorker {
		return "social worker"
	}
	return r.Name()
}

// String is the role's Name.
func (r Role) String() string { return r.Name() }

// PerRole holds one value of T for each support role. The JSON keys are the API's field
// names (counselor, nurse, psychologist, socialWorker); a zero value (0, nil) is left out.
type PerRole[T any] struct {
	Counselor    T `json:"counselor,omitempty"`
	Nurse        T `json:"nurse,omitempty"`
	Psychologist T `json:"psychologist,omitempty"`
	SocialWorker T `json:"socialWorker,omitempty"`
}

// NewPerRole builds a PerRole from the value of each role.
func NewPerRole[T any](value func(Role) T) PerRole[T] {
	var p PerRole[T]
	for _, r := range Roles() {
		*p.Ref(r) = value(r)
	}
	return p
}

// MapRoles turns each value of p into another.
func MapRoles[T, U any](p PerRole[T], f func(Role, T) U) PerRole[U] {
	return NewPerRole(func(r Role) U { return f(r, p.Get(r)) })
}

// Get returns a role's value.
func (p PerRole[T]) Get(r Role) T { return *p.Ref(r) }

// Ref points at a role's value, to set or update it. It panics on a Role outside Roles().
func (p *PerRole[T]) Ref(r Role) *T {
	switch r {
	case Counselor:
		return &p.Counselor
	case Nurse:
		return &p.Nurse
	case Psychologist:
		return &p.Psychologist
	case SocialWorker:
		return &p.SocialWorker
	}
	panic("dataset: role " + r.String() + " is not a support role")
}

// All yields each role and its value in column order.
func (p PerRole[T]) All() iter.Seq2[Role, T] {
	return func(yield func(Role, T) bool) {
		for _, r := range Roles() {
			if !yield(r, p.Get(r)) {
				return
			}
		}
	}
}

// Values lists the values in column order.
func (p PerRole[T]) Values() []T {
	out := make([]T, 0, NumRoles)
	for _, v := range p.All() {
		out = append(out, v)
	}
	return out
}

// Standards are the recommended numbers of students per FTE of each role.
type Standards = PerRole[int32]

// Costs are the annual US-dollar costs of one FTE of each role; nil is unknown.
type Costs = PerRole[*int64]

// DefaultStandards are the ASCA (counselor 250), NASN (nurse 750), NASP (psychologist 500)
// and SSWAA (social worker 250) recommended levels.
func DefaultStandards() Standards {
	return Standards{Counselor: 250, Nurse: 750, Psychologist: 500, SocialWorker: 250}
}

// WithDefaults fills the standards that are unset (zero or less) with the defaults.
func WithDefaults(s Standards) Standards {
	d := DefaultStandards()
	return MapRoles(s, func(r Role, v int32) int32 {
		if v > 0 {
			return v
		}
		return d.Get(r)
	})
}
