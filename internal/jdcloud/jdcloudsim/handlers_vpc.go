package jdcloudsim

import (
	"net/url"
	"slices"

	"restoredesk/internal/jdcloud"
)

// vpcFilters are describeVpcs' filters (vpcIds and vpcNames are multi-valued "in" filters).
var vpcFilters = map[string][]string{"vpcIds": {"eq", "in"}, "vpcNames": {"eq", "in"}}

// subnetFilters are describeSubnets' filters.
var subnetFilters = map[string][]string{
	"subnetIds": {"eq", "in"}, "subnetNames": {"eq", "in"}, "vpcId": {"eq"},
	"routeTableId": {"eq"}, "aclId": {"eq"}, "azs": {"eq", "in"}, "subnetType": {"eq"},
}

func (s *Sim) describeVpcs(rs *regionState, q url.Values) result {
	number, size, err := paging(q, 20)
	if err != nil {
		return invalid(err)
	}
	filters, err := parseFilters(q, vpcFilters)
	if err != nil {
		return invalid(err)
	}
	var found []jdcloud.Vpc
	for _, v := range rs.Vpcs {
		ok := all(filters, func(f jdcloud.Filter) bool {
			switch f.Name {
			case "vpcIds":
				return slices.Contains(f.Values, v.VpcID)
			default: // vpcNames
				return slices.Contains(f.Values, v.VpcName)
			}
		})
		if !ok {
			continue
		}
		// A VPC lists its subnets (docs/jdcloud.md, "VPCs and subnets").
		v.Subnets = nil
		for _, sn := range rs.Subnets {
			if sn.VpcID == v.VpcID {
				v.Subnets = append(v.Subnets, sn)
			}
		}
		v.Tags = slices.Clone(v.Tags)
		found = append(found, v)
	}
	return okResult(map[string]any{"vpcs": nonNil(paginate(found, number, size)), "totalCount": len(found)})
}

func (s *Sim) describeSubnets(rs *regionState, q url.Values) result {
	number, size, err := paging(q, 20)
	if err != nil {
		return invalid(err)
	}
	filters, err := parseFilters(q, subnetFilters)
	if err != nil {
		return invalid(err)
	}
	var found []jdcloud.Subnet
	for _, sn := range rs.Subnets {
		ok := all(filters, func(f jdcloud.Filter) bool {
			switch f.Name {
			case "subnetIds":
				return slices.Contains(f.Values, sn.SubnetID)
			case "subnetNames":
				return slices.Contains(f.Values, sn.SubnetName)
			case "vpcId":
				return slices.Contains(f.Values, sn.VpcID)
			case "routeTableId":
				return slices.Contains(f.Values, sn.RouteTableID)
			case "aclId":
				return slices.Contains(f.Values, sn.ACLID)
			case "azs":
				return slices.Contains(f.Values, sn.Az)
			default: // subnetType
				return slices.Contains(f.Values, sn.SubnetType)
			}
		})
		if ok {
			sn.Tags = slices.Clone(sn.Tags)
			found = append(found, sn)
		}
	}
	return okResult(map[string]any{"subnets": nonNil(paginate(found, number, size)), "totalCount": len(found)})
}
