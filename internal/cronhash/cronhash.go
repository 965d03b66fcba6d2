// Package cronhash expands the hashed token H in a cron schedule, in the spirit of Jenkins:
// "H 3 * * 1" runs at a minute of 3 a.m. chosen from a hash of the resource's namespace and
// name, so that hundreds of resources with the same schedule spread over the hour instead
// of starting at once. The choice is stable: the same key always gets the same minute.
package cronhash

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// field is one of the five cron fields and the values H may pick in it. Days of the month
// stop at 28 so that a hashed day exists in every month.
type field struct {
	name     string
	min, max int
}

func cronFields() [5]field {
	return [5]field{{"minute", 0, 59}, {"hour", 0, 23}, {"day of month", 1, 28}, {"month", 1, 12}, {"day of week", 0, 6}}
}

// Has reports whether schedule uses the H token.
func Has(schedule string) bool {
	return strings.Contains(schedule, "H")
}

// Expand replaces each H in schedule with a value chosen from a hash of key (for example
// "namespace/name"). A field may be H (any value of the field), H(a-b) (a value from a to
// b), or H/n and H(a-b)/n (every n, starting at a hashed offset). A schedule without H
// is returned as it is.
func Expand(schedule, key string) (string, error) {
	if !Has(schedule) {
		return schedule, nil
	}
	fields := cronFields()
	parts := strings.Fields(schedule)
	if len(parts) != len(fields) {
		return "", fmt.Errorf("schedule %q: H needs the five-field form (minute hour day-of-month month day-of-week)", schedule)
	}
	for i, p := range parts {
		if !strings.Contains(p, "H") {
			continue
		}
		v, err := expandField(p, fields[i], hash(key, i))
		if err != nil {
			return "", fmt.Errorf("schedule %q: %s field %q: %w", schedule, fields[i].name, p, err)
		}
		parts[i] = v
	}
	return strings.Join(parts, " "), nil
}

// hash is the key's hash for field i, so that minute and hour are not picked alike.
func hash(key string, i int) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	_, _ = h.Write([]byte{byte(i)})
	return h.Sum32()
}

func expandField(p string, f field, h uint32) (string, error) {
	rest, ok := strings.CutPrefix(p, "H")
	if !ok {
		return "", fmt.Errorf("H must start the field, as in H, H(0-29) or H/15")
	}
	lo, hi := f.min, f.max
	if strings.HasPrefix(rest, "(") {
		end := strings.Index(rest, ")")
		if end < 0 {
			return "", fmt.Errorf("unclosed H( range")
		}
		var err error
		if lo, hi, err = parseRange(rest[1:end], f); err != nil {
			return "", err
		}
		rest = rest[end+1:]
	}
	if rest == "" {
		return strconv.Itoa(lo + int(h%uint32(hi-lo+1))), nil
	}
	stepText, ok := strings.CutPrefix(rest, "/")
	if !ok {
		return "", fmt.Errorf("unexpected %q after H", rest)
	}
	step, err := strconv.Atoi(stepText)
	if err != nil || step < 1 || step > hi-lo+1 {
		return "", fmt.Errorf("step %q is not a number from 1 to %d", stepText, hi-lo+1)
	}
	start := lo + int(h%uint32(step))
	return fmt.Sprintf("%d-%d/%d", start, hi, step), nil
}

func parseRange(r string, f field) (int, int, error) {
	a, b, ok := strings.Cut(r, "-")
	lo, err1 := strconv.Atoi(a)
	hi, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || lo < f.min || hi > f.max || lo > hi {
		return 0, 0, fmt.Errorf("range %q is not a-b within %d-%d", r, f.min, f.max)
	}
	return lo, hi, nil
}
