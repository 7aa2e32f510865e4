package problem_test

import (
	"errors"
	"fmt"
	"testing"

	"restoredesk/internal/problem"
)

func TestCodeAndMessage(t *testing.T) {
	refused := problem.New(problem.Conflict, "This request is ready and can no longer change that way.")
	for _, tc := range []struct {
		name    string
		err     error
		code    problem.Code
		message string
	}{
		{name: "nil", err: nil, code: ""},
		{name: "a refusal", err: refused, code: problem.Conflict, message: refused.Message},
		{name: "wrapped with context", err: fmt.Errorf("approve request 7: %w", refused), code: problem.Conflict, message: refused.Message},
		{name: "joined with another error", err: errors.Join(errors.New("boom"), refused), code: problem.Conflict, message: refused.Message},
		{name: "formatted", err: problem.Errorf(problem.Invalid, "Keep it under %d characters.", 10), code: problem.Invalid, message: "Keep it under 10 characters."},
		{name: "any other error is internal", err: errors.New("pq: relation does not exist"), code: problem.Internal, message: problem.InternalMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := problem.CodeOf(tc.err); got != tc.code {
				t.Errorf("CodeOf = %q, want %q", got, tc.code)
			}
			if tc.err == nil {
				return
			}
			if got := problem.MessageOf(tc.err); got != tc.message {
				t.Errorf("MessageOf = %q, want %q", got, tc.message)
			}
		})
	}
}
