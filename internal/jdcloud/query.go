package jdcloud

import (
	"context"
	"fmt"
	"strconv"
)

// Filter is one entry of a list call's filters parameter, sent flattened with 1-based
// indexes: filters.1.name, filters.1.values.1, filters.1.operator (docs/jdcloud.md, Canonical request).
type Filter struct {
	Name     string
	Values   []string
	Operator string // "eq" (JD Cloud's default when empty), "like", …
}

// TagFilter matches resources carrying tag Key with one of Values (any value when Values is
// empty). Sent as tagFilters.N.key and tagFilters.N.values.M.
type TagFilter struct {
	Key    string
	Values []string
}

// Tag is a resource tag, as in tagSpec and in the tags of instances and VPCs.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Page is one page of a list call.
type Page[T any] struct {
	Items      []T
	TotalCount int // across all pages
	PageNumber int // as requested (JD Cloud's default is 1)
	PageSize   int // as requested (0: JD Cloud's default)
}

// appendFilters flattens filters the way every SDK does. Filters without a name or without
// values are skipped, as the JS SDK skips them.
func appendFilters(q []queryPair, fs []Filter) []queryPair {
	n := 0
	for _, f := range fs {
		if f.Name == "" || len(f.Values) == 0 {
			continue
		}
		n++
		p := "filters." + strconv.Itoa(n) + "."
		q = append(q, queryPair{p + "name", f.Name})
		for i, v := range f.Values {
			q = append(q, queryPair{p + "values." + strconv.Itoa(i+1), v})
		}
		if f.Operator != "" {
			q = append(q, queryPair{p + "operator", f.Operator})
		}
	}
	return q
}

// appendTagFilters flattens tag filters; entries without a key are skipped.
func appendTagFilters(q []queryPair, ts []TagFilter) []queryPair {
	n := 0
	for _, t := range ts {
		if t.Key == "" {
			continue
		}
		n++
		p := "tagFilters." + strconv.Itoa(n) + "."
		q = append(q, queryPair{p + "key", t.Key})
		for i, v := range t.Values {
			q = append(q, queryPair{p + "values." + strconv.Itoa(i+1), v})
		}
	}
	return q
}

// appendPaging adds pageNumber and pageSize when set; JD Cloud's defaults apply otherwise.
func appendPaging(q []queryPair, pageNumber, pageSize int) []queryPair {
	if pageNumber != 0 {
		q = append(q, queryPair{"pageNumber", strconv.Itoa(pageNumber)})
	}
	if pageSize != 0 {
		q = append(q, queryPair{"pageSize", strconv.Itoa(pageSize)})
	}
	return q
}

// maxPages bounds collectAll, so that an endpoint that keeps answering (JD Cloud shows the last
// page for a page number past the end) cannot loop forever.
const maxPages = 1000

// collectAll fetches pages 1, 2, … until totalCount items arrived or a page comes back empty.
func collectAll[T any](ctx context.Context, fetch func(ctx context.Context, pageNumber int) (Page[T], error)) ([]T, error) {
	var all []T
	for n := 1; n <= maxPages; n++ {
		p, err := fetch(ctx, n)
		if err != nil {
			return all, fmt.Errorf("page %d: %w", n, err)
		}
		all = append(all, p.Items...)
		if len(p.Items) == 0 || len(all) >= p.TotalCount {
			return all, nil
		}
	}
	return all, fmt.Errorf("more than %d pages", maxPages)
}
