package views

import "strings"

// OwnershipProps is a team's ownership page: per region, the source
// instances the team owns and the VPCs it may restore into, with the forms
// that add (from JD Cloud's lists) and remove them.
type OwnershipProps struct {
	TeamID   int64
	TeamName string
	Region   string          // the region shown
	Regions  []RegionSummary // every region, with what the team has there
	Owned    []OwnedItem     // the team's instances in Region
	VPCs     []OwnedItem     // the team's VPCs in Region
	// The choices read from JD Cloud for Region; CloudErr says why they are
	// missing.
	InstanceChoices []Option
	VPCChoices      []Option
	CloudErr        string
	Instance        string            // add-instance form input
	VPC             string            // add-VPC form input
	Errors          map[string]string // field → problem
}

// RegionSummary is a region and how much a team has there.
type RegionSummary struct {
	ID, Label       string
	Instances, VPCs int
}

// OwnedItem is an instance or VPC a team has.
type OwnedItem struct {
	ID, Name, Engine string
	Status           string // live from JD Cloud; "" when unknown
}

func ownershipHref(team int64, suffix string) string { return teamHref(team) + "/ownership" + suffix }

// ownedKind is what the ownership page shows of instances or of VPCs.
type ownedKind struct {
	Key     string // path segment: "instances" or "vpcs"
	Title   string
	Field   string // form field of the id
	Noun    string // "instance" or "VPC"
	Empty   string
	Hint    string
	Items   []OwnedItem
	Choices []Option
	Kept    string // the add form's kept input
	Columns bool   // engine and status columns (instances)
}

// article is "a" or "an" before a noun as it is said ("an instance", "a VPC").
func article(noun string) string {
	if strings.ContainsRune("aeio", rune(noun[0])) {
		return "an"
	}
	return "a"
}
