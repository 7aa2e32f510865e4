package jdcloud

// Region is a JD Cloud region and the availability zones the docs name for it.
type Region struct {
	ID   string   // e.g. "cn-north-1"
	Name string   // e.g. "North China (Beijing)"
	AZs  []string // logical AZ ids; an account may see others (ask describeAzs)
}

// Regions are the four regions of docs/jdcloud.md (Enumerations), the only ones terraform accepts. Other regions
// (Wuhan, overseas) are unconfirmed. AZ lists are the documented logical ones; the
// authoritative list for an account comes from DescribeAzs. cn-north-1c appears only in SDK
// text (assumed).
var Regions = []Region{
	{ID: "cn-north-1", Name: "North China (Beijing)", AZs: []string{"cn-north-1a", "cn-north-1b", "cn-north-1c"}},
	{ID: "cn-east-1", Name: "East China (Suqian)", AZs: []string{"cn-east-1a"}},
	{ID: "cn-east-2", Name: "East China (Shanghai)", AZs: []string{"cn-east-2a", "cn-east-2b"}},
	{ID: "cn-south-1", Name: "South China (Guangzhou)", AZs: []string{"cn-south-1a"}},
}

// LookupRegion returns the region with the given id.
func LookupRegion(id string) (Region, bool) {
	for _, r := range Regions {
		if r.ID == id {
			return r, true
		}
	}
	return Region{}, false
}
