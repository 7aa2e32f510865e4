package views

import (
	"context"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"
)

// fieldKey carries, to the control a Field wraps, the ids of the field's
// hint and error, so the control can point at them (aria-describedby) and
// say it is invalid (aria-invalid) without each form repeating them.
type fieldKey struct{}

type fieldState struct{ id, hint, err string }

// Field wraps a form control with its visible label, a hint and its error.
// The control inside spreads Described(ctx) to be tied to them.
func Field(id, label, hint, err string) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		ctx = context.WithValue(ctx, fieldKey{}, fieldState{id, hint, err})
		return fieldFrame(id, label, hint, err).Render(ctx, w)
	})
}

// Described is the accessibility attributes of the control of the Field
// around it: aria-describedby naming its hint and its error, and
// aria-invalid when it has an error. Outside a Field it is empty.
func Described(ctx context.Context) templ.Attributes {
	f, ok := ctx.Value(fieldKey{}).(fieldState)
	if !ok {
		return templ.Attributes{}
	}
	a := templ.Attributes{}
	var ids []string
	if f.hint != "" {
		ids = append(ids, f.id+"-hint")
	}
	if f.err != "" {
		ids = append(ids, f.id+"-error")
		a["aria-invalid"] = "true"
	}
	if len(ids) > 0 {
		a["aria-describedby"] = strings.Join(ids, " ")
	}
	return a
}

// Problem is one invalid field as the error summary lists it: the id of the
// field's control (the summary links to it) and the message at the field.
type Problem struct {
	ID, Message string
}

// Problems orders a form's errors for its summary: the fields named in
// order first, in that order (the order of the form), then any other in
// name order so that the page never changes from one render to the next.
func Problems(errs map[string]string, order ...string) []Problem {
	var out []Problem
	for _, id := range order {
		if m, ok := errs[id]; ok && m != "" {
			out = append(out, Problem{id, m})
		}
	}
	var rest []string
	for id, m := range errs {
		if m != "" && !slices.Contains(order, id) {
			rest = append(rest, id)
		}
	}
	slices.Sort(rest)
	for _, id := range rest {
		out = append(out, Problem{id, errs[id]})
	}
	return out
}

// problemCount says how many problems a summary lists, in words.
func problemCount(n int) string {
	if n == 1 {
		return "There is 1 problem with what was entered:"
	}
	return "There are " + strconv.Itoa(n) + " problems with what was entered:"
}

// requestFormOrder is the request form's fields in the order it shows them.
var requestFormOrder = []string{"team", "region", "source", "kind", "restore_at", "backup", "class", "storage",
	"az_primary", "az_standby", "arch", "vpc", "subnet", "storage_type", "encrypted", "param_group", "port",
	"name", "charge_mode", "period", "period_unit", "reason"}

// fieldErrors keeps the errors of the named fields only: a page with several
// forms shows each its own.
func fieldErrors(errs map[string]string, fields ...string) map[string]string {
	out := map[string]string{}
	for _, f := range fields {
		if m := errs[f]; m != "" {
			out[f] = m
		}
	}
	return out
}
