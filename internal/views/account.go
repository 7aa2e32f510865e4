package views

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"restoredesk/internal/timezone"
)

// TimeZoneSetting is the account page's time zone form.
type TimeZoneSetting struct {
	Value     string // the stored zone, or as submitted after a refusal; "" for the browser's
	Browser   string // the zone the browser reported, "" when it has not
	Default   string // the deployment's default zone
	Effective string // the zone the pages use now
	Error     string
}

func (z TimeZoneSetting) hint() string {
	return "The browser's zone is used when you choose none; without it, " + z.Default + "."
}

func (z TimeZoneSetting) describedBy() string {
	ids := "time_zone-hint"
	if z.Error != "" {
		ids += " time_zone-error"
	}
	return ids
}

func (z TimeZoneSetting) browserOption() string {
	if z.Browser != "" {
		return "Use my browser's zone (" + z.Browser + ")"
	}
	return "Use my browser's zone"
}

// unlisted reports whether the value is in neither list (a name typed by
// hand or refused), so the form still shows what was submitted.
func (z TimeZoneSetting) unlisted() bool {
	return z.Value != "" && !slices.Contains(timezone.Names, z.Value) && !slices.Contains(timezone.All, z.Value)
}

// others are the zones not already among the common ones.
func (z TimeZoneSetting) others() []string {
	out := make([]string, 0, len(timezone.All))
	for _, n := range timezone.All {
		if !slices.Contains(timezone.Names, n) {
			out = append(out, n)
		}
	}
	return out
}

// SessionRow is one of the user's active sessions on the account page.
type SessionRow struct {
	Handle    string // names the session in its sign-out address: the hex of the hash stored, never the cookie's id
	Started   time.Time
	LastSeen  time.Time
	Addr      string
	Browser   string // the user agent in a few words
	UserAgent string // in full, on hover
	SSO       bool
	Current   bool // the session this page is shown in
}

func sessionsText(n int) string {
	if n == 1 {
		return "in 1 place"
	}
	return "in " + strconv.Itoa(n) + " places"
}

// BrowserName says in a few words which browser a user agent names
// ("Chrome 127 on Linux"), or the start of it when it names none we know.
func BrowserName(ua string) string {
	if strings.TrimSpace(ua) == "" {
		return "An unknown browser"
	}
	name := ""
	// Order matters: Edge and Opera also say Chrome, Chrome also says Safari.
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"HeadlessChrome/", "Headless Chrome"},
		{"Chrome/", "Chrome"}, {"Version/", "Safari"}, {"curl/", "curl"},
	} {
		if i := strings.Index(ua, b.token); i >= 0 {
			name = b.name
			v := ua[i+len(b.token):]
			if j := strings.IndexAny(v, ". ;)"); j > 0 {
				v = v[:j]
			}
			if v != "" {
				name += " " + v
			}
			break
		}
	}
	if name == "" {
		return Excerpt(ua, 40)
	}
	for _, os := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"Macintosh", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, os.token) {
			return name + " on " + os.name
		}
	}
	return name
}
