package jdcloudsim

import (
	"fmt"
	"maps"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"restoredesk/internal/jdcloud"
)

// badQuery is a query problem; handlers answer it with 400 INVALID_ARGUMENT.
type badQuery string

// Error returns the problem.
func (b badQuery) Error() string { return string(b) }

// paging reads pageNumber (default 1, -1 for everything) and pageSize (default def, 1–100).
// The SDK docs disagree on the size limits (JS: 10/20/30/50/100, Go: [10,100], the English doc:
// [1,100]); the simulator takes the widest.
func paging(q url.Values, def int) (number, size int, err error) {
	number, size = 1, def
	if v := q.Get("pageNumber"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n == 0 || n < -1 {
			return 0, 0, badQuery(fmt.Sprintf("pageNumber %q must be -1 or a positive whole number", v))
		}
		number = n
	}
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return 0, 0, badQuery(fmt.Sprintf("pageSize %q must be between 1 and 100", v))
		}
		size = n
	}
	return number, size, nil
}

// paginate returns one page of items. Page -1 is everything; a page past the end is the last
// page, as the JS SDK documents for describeInstances.
func paginate[T any](items []T, number, size int) []T {
	if number == -1 || len(items) == 0 {
		return items
	}
	last := (len(items) + size - 1) / size
	number = min(number, last)
	lo := (number - 1) * size
	return items[lo:min(lo+size, len(items))]
}

// indexedGroups collects parameters of the form prefix.N.rest into groups by N (1-based),
// returned in index order.
func indexedGroups(q url.Values, prefix string) ([]map[string][]string, error) {
	byIndex := map[int]map[string][]string{}
	for k, vs := range q {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok {
			continue
		}
		idx, field, ok := strings.Cut(rest, ".")
		n, err := strconv.Atoi(idx)
		if !ok || err != nil || n < 1 {
			return nil, badQuery(fmt.Sprintf("query parameter %q: want %s.N.field with N from 1", k, prefix))
		}
		if byIndex[n] == nil {
			byIndex[n] = map[string][]string{}
		}
		byIndex[n][field] = append(byIndex[n][field], vs...)
	}
	var out []map[string][]string
	for _, n := range slices.Sorted(maps.Keys(byIndex)) {
		out = append(out, byIndex[n])
	}
	return out, nil
}

// indexedValues reads field.values.M entries of a group in M order.
func indexedValues(g map[string][]string) ([]string, error) {
	type iv struct {
		i int
		v string
	}
	var vals []iv
	for k, vs := range g {
		rest, ok := strings.CutPrefix(k, "values.")
		if !ok {
			continue
		}
		m, err := strconv.Atoi(rest)
		if err != nil || m < 1 {
			return nil, badQuery(fmt.Sprintf("values index %q must be a whole number from 1", rest))
		}
		for _, v := range vs {
			vals = append(vals, iv{m, v})
		}
	}
	slices.SortStableFunc(vals, func(a, b iv) int { return a.i - b.i })
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = v.v
	}
	return out, nil
}

// parseFilters reads filters.N.name / filters.N.values.M / filters.N.operator, and checks
// each name and operator against allowed (name → operators; the first is the default).
func parseFilters(q url.Values, allowed map[string][]string) ([]jdcloud.Filter, error) {
	groups, err := indexedGroups(q, "filters")
	if err != nil {
		return nil, err
	}
	var out []jdcloud.Filter
	for _, g := range groups {
		name := first(g["name"])
		ops, ok := allowed[name]
		if !ok {
			return nil, badQuery(fmt.Sprintf("filter %q is not supported", name))
		}
		values, err := indexedValues(g)
		if err != nil {
			return nil, err
		}
		op := first(g["operator"])
		if op == "" {
			op = ops[0]
		}
		if !slices.Contains(ops, op) {
			return nil, badQuery(fmt.Sprintf("filter %s does not support operator %q", name, op))
		}
		out = append(out, jdcloud.Filter{Name: name, Values: values, Operator: op})
	}
	return out, nil
}

// parseTagFilters reads tagFilters.N.key / tagFilters.N.values.M.
func parseTagFilters(q url.Values) ([]jdcloud.TagFilter, error) {
	groups, err := indexedGroups(q, "tagFilters")
	if err != nil {
		return nil, err
	}
	var out []jdcloud.TagFilter
	for _, g := range groups {
		key := first(g["key"])
		if key == "" {
			return nil, badQuery("tagFilters.N.key is required")
		}
		values, err := indexedValues(g)
		if err != nil {
			return nil, err
		}
		out = append(out, jdcloud.TagFilter{Key: key, Values: values})
	}
	return out, nil
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// matches applies one filter to a value: "eq" is equality with any value; "like" is a
// substring match, or a glob when the pattern holds '*' (the JS SDK example sends
// "restore demo*"). JD Cloud's exact like semantics are unconfirmed.
func matches(value string, f jdcloud.Filter) bool {
	for _, want := range f.Values {
		switch f.Operator {
		case "like":
			if strings.Contains(want, "*") {
				if ok, _ := path.Match(strings.ReplaceAll(want, "/", "\x00"), strings.ReplaceAll(value, "/", "\x00")); ok {
					return true
				}
			} else if strings.Contains(value, want) {
				return true
			}
		default:
			if value == want {
				return true
			}
		}
	}
	return false
}

// hasTags reports whether tags satisfy every tag filter.
func hasTags(tags []jdcloud.Tag, filters []jdcloud.TagFilter) bool {
	for _, f := range filters {
		ok := slices.ContainsFunc(tags, func(t jdcloud.Tag) bool {
			return t.Key == f.Key && (len(f.Values) == 0 || slices.Contains(f.Values, t.Value))
		})
		if !ok {
			return false
		}
	}
	return true
}
