// Package timezone decides the zone a page shows its times in, and carries it
// from the handlers to the views through the request's context.
//
// One rule everywhere: the viewer's own setting (the account page), else the
// zone their browser reported (a cookie set by static/js/timezone.js), else the
// deployment's DEFAULT_TIME_ZONE. Pages render times on the server in that
// zone, so they read the same without JavaScript; the UTC time is on hover,
// and exports stay in UTC.
package timezone

import (
	"context"
	"errors"
	"strings"
	"time"
	_ "time/tzdata" // zone names resolve even on a machine without /usr/share/zoneinfo
)

// Default is the zone used when nothing else says: JD Cloud's console shows
// Beijing time, so its users think in it.
const Default = "Asia/Shanghai"

// Cookie is the cookie in which the browser's script reports its zone name.
const Cookie = "tz"

// ErrUnknown is returned by Load for a name that is not an IANA zone.
var ErrUnknown = errors.New("not a time zone name")

// Load returns the zone called name ("UTC" or an IANA name such as
// Asia/Shanghai). Names that only the local machine knows, such as "Local",
// are refused.
func Load(name string) (*time.Location, error) {
	name = strings.TrimSpace(name)
	if name == "" || name == "Local" || len(name) > 64 || strings.Contains(name, "..") {
		return nil, ErrUnknown
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, ErrUnknown
	}
	return loc, nil
}

// Resolve applies the rule: the first of the user's setting and the
// browser's zone that names a zone, else def (UTC when def is nil).
func Resolve(setting, browser string, def *time.Location) *time.Location {
	for _, name := range []string{setting, browser} {
		if loc, err := Load(name); err == nil {
			return loc
		}
	}
	if def == nil {
		return time.UTC
	}
	return def
}

type ctxKey struct{}

// With returns ctx carrying loc, the zone the viewer's pages use.
func With(ctx context.Context, loc *time.Location) context.Context {
	return context.WithValue(ctx, ctxKey{}, loc)
}

// From returns the zone ctx carries, UTC when none.
func From(ctx context.Context) *time.Location {
	if loc, ok := ctx.Value(ctxKey{}).(*time.Location); ok && loc != nil {
		return loc
	}
	return time.UTC
}

// Layout is how pages show a time: with the offset, so a reader knows the
// zone without guessing ("2026-03-01 18:00:05 +08:00").
const Layout = "2006-01-02 15:04:05 -07:00"

// Format renders t in loc for a page; UTC shows as "UTC".
func Format(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(loc)
	if _, off := t.Zone(); off == 0 && loc == time.UTC {
		return t.Format("2006-01-02 15:04:05") + " UTC"
	}
	return t.Format(Layout)
}

// Names are the zones the account page offers: UTC and the zones the teams
// work in most, then every other IANA name typed by hand is accepted too.
var Names = []string{
	"UTC", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo",
	"Asia/Seoul", "Asia/Kolkata", "Asia/Dubai", "Europe/London", "Europe/Berlin", "Europe/Paris",
	"Europe/Moscow", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
	"America/Sao_Paulo", "Australia/Sydney",
}
