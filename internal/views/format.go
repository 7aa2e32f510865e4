package views

import (
	"context"
	"fmt"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"restoredesk/internal/timezone"
)

// ISO renders t for a <time datetime> attribute.
func ISO(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Capitalize returns s with its first letter in upper case, for words that
// start a sentence or a label.
func Capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// Bytes renders a size in binary units: "1.5 GiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// WhenIn renders a time in the viewer's zone (timezone.Format), for view
// models that the handlers fill with strings.
func WhenIn(ctx context.Context, t time.Time) string {
	return timezone.Format(t, timezone.From(ctx))
}

// UTCTitle is a time's hover text: the same moment in UTC.
func UTCTitle(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// countCap mirrors postgres.CountCap: counts stop one above it.
const countCap = 10_000

// Count writes a total as people read it: 1,204, or "more than 10,000" for a
// count that stopped at its cap.
func Count(n int) string { return CountUpTo(n, countCap) }

// CountUpTo is Count for a count that stopped one above upTo.
func CountUpTo(n, upTo int) string {
	if n > upTo {
		return "more than " + CountUpTo(upTo, upTo)
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
