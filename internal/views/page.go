// Package views holds the templ components of every page. Views receive typed
// values and render them; they do no I/O and decide no business rules.
package views

// Page is what the frame around every page shows.
type Page struct {
	Title  string
	Demo   bool    // shows the "Demo" marker
	Viewer *Viewer // nil when nobody is signed in
	Flash  Flash
	// Refresh, when above zero, reloads the page every so many seconds in
	// a browser without JavaScript (the script follows changes in place).
	Refresh int
	Wide    bool   // a page that needs the width, such as the request form
	Active  string // the navigation entry to highlight: "dashboard", "new", "approvals", "requests", "audit", "admin"
}

// Viewer is the signed-in user as the navigation needs them.
type Viewer struct {
	Name     string
	Username string
	Admin    bool
	Auditor  bool
	Lead     bool // leads at least one team
	Member   bool // belongs to at least one team
}

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind    string // "success", "error" or "info"
	Message string
}

// NavItem is one entry of the main navigation.
type NavItem struct {
	Key, Label, Href string
}

// Nav returns the navigation entries v may use, in display order. It hides
// what the viewer's roles cannot open; the server refuses those routes anyway.
func (v *Viewer) Nav() []NavItem {
	if v == nil {
		return nil
	}
	items := []NavItem{{"dashboard", "Dashboard", "/"}}
	if v.Member {
		items = append(items, NavItem{"new", "New request", "/requests/new"})
	}
	if v.Lead {
		items = append(items, NavItem{"approvals", "Approvals", "/approvals"})
	}
	items = append(items, NavItem{"requests", "Requests", "/requests"})
	items = append(items, NavItem{"copies", "Live copies", "/copies"})
	if v.Lead || v.Auditor || v.Admin {
		items = append(items, NavItem{"audit", "Audit log", "/audit"})
	}
	if v.Admin {
		items = append(items, NavItem{"admin", "Admin", "/admin"})
	}
	return items
}
