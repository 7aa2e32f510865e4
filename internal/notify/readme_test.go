package notify_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"restoredesk/internal/notify"
)

// readmeSection returns the text of the README under heading, up to the next
// heading of the same or a higher level.
func readmeSection(t *testing.T, readme, heading string) string {
	t.Helper()
	start := strings.Index(readme, "\n"+heading+"\n")
	if start < 0 {
		t.Fatalf("the README has no %q", heading)
	}
	level := strings.Index(heading, " ")
	rest := readme[start+len(heading)+2:]
	for i := 0; i < len(rest); {
		line, _, _ := strings.Cut(rest[i:], "\n")
		if strings.HasPrefix(line, "#") {
			if n := strings.Index(line, " "); n > 0 && n <= level && strings.Trim(line[:n], "#") == "" {
				return rest[:i]
			}
		}
		i += len(line) + 1
	}
	return rest
}

// firstColumn returns the backquoted value starting each table row.
func firstColumn(section string) []string {
	var out []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_.]+)` \\|").FindAllStringSubmatch(section, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestREADMEListsEveryMessageType: the README's list of event types and its
// table of who gets what name exactly the types the code can send, so a new
// type cannot ship undocumented and the README promises none that is never sent.
func TestREADMEListsEveryMessageType(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	notifications := readmeSection(t, string(raw), "## Notifications")
	want := notify.MessageTypes()
	for _, heading := range []string{"### Event types", "### Who gets what"} {
		got := firstColumn(readmeSection(t, notifications, heading))
		for _, typ := range want {
			if !slices.Contains(got, typ) {
				t.Errorf("README %s: %s, which the code sends, is missing", heading, typ)
			}
		}
		for _, typ := range got {
			if !slices.Contains(want, typ) {
				t.Errorf("README %s: %s is listed but the code never sends it", heading, typ)
			}
		}
		if len(got) != len(want) {
			t.Errorf("README %s lists %d types, the code sends %d", heading, len(got), len(want))
		}
	}
}
