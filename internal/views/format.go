package views

import (
	"context"
	"fmt"
	"math"
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

// Bytes renders a size in the units JD Cloud gives storage in, GB of 1024³
// bytes (and MB, KB of 1024), so that a backup's size and the storage field
// agree: "1.5 GB".
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
	// Rounded up, as the storage it needs is: never a size below the real one.
	return fmt.Sprintf("%.1f %cB", math.Ceil(float64(n)*10/float64(div))/10, "KMGTPE"[exp])
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

// CountUpTo writes a count that stopped one above upTo as people read it:
// 1,204, or "more than 1,000".
func CountUpTo(n, upTo int) string {
	if n > upTo {
		return "more than " + Thousands(upTo)
	}
	return Thousands(n)
}
